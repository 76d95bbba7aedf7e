# --8<-- [start:setup]
import torch

# The same "random" numbers on every run. manual_seed returns the generator;
# `_ =` keeps a notebook from displaying it.
_ = torch.manual_seed(0)
# --8<-- [end:setup]


# --8<-- [start:define-by-run]
def double_until_large(x):
    """Double x until its norm reaches 10; return its sum and the doublings."""
    steps = 0
    # An ordinary Python loop whose length depends on the data.
    while x.norm() < 10:
        x = x * 2
        steps += 1
    return x.sum(), steps


for values in ([0.5, -1.0, 0.25], [3.0, 4.0]):
    x = torch.tensor(values, requires_grad=True)
    total, steps = double_until_large(x)
    total.backward()  # autograd follows the operations that actually ran
    # By hand: total = 2**steps * (x[0] + x[1] + ...),
    # so d total / d x[i] = 2**steps.
    by_hand = f"2**{steps} = {2**steps}"
    print(
        f"doublings: {steps}  gradient: {x.grad.tolist()}  by hand: {by_hand}"
    )
# --8<-- [end:define-by-run]

# --8<-- [start:device]
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"


def layer(inputs, weights):
    """One linear layer followed by a ReLU: the same code for every device."""
    return torch.relu(inputs @ weights)


inputs = torch.randn(4, 3)  # created on the CPU by the seeded generator
weights = torch.randn(3, 2)
on_cpu = layer(inputs, weights)
on_device = layer(
    inputs.to(device), weights.to(device)
)  # the same call; the data now lives on `device`

print(on_device.device.type == device)
print(
    torch.allclose(on_device.cpu(), on_cpu)
)  # .cpu() copies the result back to compare
# --8<-- [end:device]


# --8<-- [start:data-parallel]
def mse(w, features, targets):
    """Mean squared error of the linear model features @ w."""
    return ((features @ w - targets) ** 2).mean()


# One batch of 8 examples with 3 features each, and a linear model's weights.
features = torch.randn(8, 3).to(device)
targets = torch.randn(8, 1).to(device)
w = torch.randn(3, 1).to(device).requires_grad_()

# One worker, the whole batch.
(full_grad,) = torch.autograd.grad(mse(w, features, targets), w)

# Two workers, each with the same weights and half of the batch (a "shard").
shard_grads = [
    torch.autograd.grad(mse(w, f, t), w)[0]
    for f, t in zip(features.chunk(2), targets.chunk(2))
]
averaged = (shard_grads[0] + shard_grads[1]) / 2

# Rounded to 4 decimals: devices may differ in the last bits of a float32.
grads = {
    "worker 0": shard_grads[0],
    "worker 1": shard_grads[1],
    "average": averaged,
    "full batch": full_grad,
}
for name, grad in grads.items():
    print(
        f"{name:>10}:", "  ".join(f"{v:+.4f}" for v in grad.flatten().tolist())
    )
print(torch.allclose(averaged, full_grad))
# --8<-- [end:data-parallel]
