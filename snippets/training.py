# --8<-- [start:setup]
import copy
import math

import matplotlib.pyplot as plt
import torch

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# N examples, D_in input features, H hidden units, D_out outputs.
N, D_in, H, D_out = 64, 1000, 100, 10

torch.manual_seed(0)
# Random inputs and random targets, made on the CPU, then moved.
x = torch.randn(N, D_in).to(device)
y = torch.randn(N, D_out).to(device)

model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H),
    torch.nn.ReLU(),
    torch.nn.Linear(H, D_out),
).to(device)
untrained = copy.deepcopy(model)  # a copy of the starting weights, for later

print(x.shape, y.shape)
print(model)
print("parameters:", sum(p.numel() for p in model.parameters()))
print("data requires grad:", x.requires_grad, y.requires_grad)
# --8<-- [end:setup]

# --8<-- [start:forward]
loss_fn = torch.nn.MSELoss(reduction="sum")  # summed, not averaged

y_pred = model(x)  # forward: one prediction per example
loss = loss_fn(y_pred, y)  # one number: how far the predictions are

print(y_pred.shape, loss.shape)
print(f"loss: {loss.item():.3g}")
print(
    "sum of squared errors:", torch.allclose(loss, ((y_pred - y) ** 2).sum())
)
# --8<-- [end:forward]

# --8<-- [start:backward]
model.zero_grad()  # clear any old gradients (there are none yet)
loss.backward()  # backward: a gradient for every parameter

for name, param in model.named_parameters():
    print(f"{name:<8} {str(param.shape):<24} grad: {param.grad.shape}")
# --8<-- [end:backward]

# --8<-- [start:update-error]
learning_rate = 1e-4
weight = model[0].weight
before = weight.detach().clone()

try:
    weight -= learning_rate * weight.grad  # in place, outside torch.no_grad()
except RuntimeError as error:
    print(f"RuntimeError: {error}")

print("weight unchanged:", torch.equal(weight, before))
# --8<-- [end:update-error]

# --8<-- [start:accumulate]
first = model[0].weight.grad.clone()

loss_fn(model(x), y).backward()  # a second backward, without zero_grad()

print("doubled:", torch.allclose(model[0].weight.grad, 2 * first))
model.zero_grad()  # today this sets the gradients to None
print("cleared:", model[0].weight.grad is None)
# --8<-- [end:accumulate]

# --8<-- [start:loop]
learning_rate = 1e-4
losses = []

for t in range(500):
    # 1. Forward: predict, and measure the error.
    y_pred = model(x)
    loss = loss_fn(y_pred, y)

    # 2. Backward: clear the old gradients, compute new ones.
    model.zero_grad()
    loss.backward()

    # 3. Update: a small step against the gradient, not recorded by autograd.
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

    losses.append(loss.item())
    if t in (0, 100, 200, 300, 400, 499):
        print(f"step {t:3d}  loss {loss.item():.3g}")
# --8<-- [end:loop]

# --8<-- [start:claim]
initial, final = losses[0], losses[-1]

print(f"final / initial: {100 * final / initial:.2g} %")
print("final < 0.01 * initial:", final < 0.01 * initial)
# --8<-- [end:claim]

# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.plot(losses)  # the 500 losses the loop recorded, one per step
ax.set_yscale("log")  # from 628 to 0.00001: 8 orders of magnitude
ax.set_xlabel("step")
ax.set_ylabel("loss (sum of squared errors)")
fig.savefig("training-loss.svg")  # next to the script
# --8<-- [end:plot]

# --8<-- [start:fresh-data]
# 64 new random examples, never seen in training.
x_new = torch.randn(N, D_in).to(device)
y_new = torch.randn(N, D_out).to(device)

with torch.no_grad():  # only evaluating: no gradients needed
    print(f"training data: {loss_fn(model(x), y).item():.3g}")
    print(f"new data:      {loss_fn(model(x_new), y_new).item():.3g}")
# --8<-- [end:fresh-data]

# --8<-- [start:too-large]
unstable = copy.deepcopy(untrained)  # the same starting weights as before
learning_rate = 1e-2  # 100 times larger

for t in range(6):
    loss = loss_fn(unstable(x), y)
    unstable.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in unstable.parameters():
            param -= learning_rate * param.grad
    print(f"step {t}  loss {loss.item():.2g}")

print("finite:", math.isfinite(loss.item()))
print("nan in the weights:", unstable[0].weight.isnan().any().item())
print(f"largest float32: {torch.finfo(torch.float32).max:.2g}")
# --8<-- [end:too-large]

# --8<-- [start:exercise-halves]
net = copy.deepcopy(untrained)  # the starting weights, no gradients yet
...  # backward on the first 32 examples, then on the last 32
halves_grad = net[0].weight.grad  # what the two backward passes left
# --8<-- [end:exercise-halves]

# --8<-- [start:solution-halves]
net = copy.deepcopy(untrained)  # the starting weights, no gradients yet
loss_fn(net(x[:32]), y[:32]).backward()
loss_fn(net(x[32:]), y[32:]).backward()  # adds to .grad, no zero_grad()
halves_grad = net[0].weight.grad  # what the two backward passes left
# --8<-- [end:solution-halves]


# --8<-- [start:check-halves]
def check_halves(got):
    assert isinstance(got, torch.Tensor), f"expected a gradient, got {got!r}"
    full = copy.deepcopy(untrained)
    loss_fn(full(x), y).backward()  # all 64 examples at once
    want = full[0].weight.grad
    assert got.shape == want.shape, f"expected {want.shape}, got {got.shape}"
    atol = 1e-4 * want.abs().max().item()  # sums in another order round apart
    close = torch.allclose(got, want, rtol=1e-4, atol=atol)
    assert close, "not the whole batch's gradient: was .grad cleared between?"
    print("right: two half batches add up to the gradient of the whole batch")


check_halves(halves_grad)
# --8<-- [end:check-halves]

# --8<-- [start:exercise-rate]
rates = [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
largest_rate = ...  # the largest of `rates` that still converges
# --8<-- [end:exercise-rate]

# --8<-- [start:solution-rate]
rates = [1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]


def final_loss(learning_rate, steps=100):
    """The loss after `steps` steps of the page's loop, from `untrained`."""
    net = copy.deepcopy(untrained)  # the same starting weights each time
    for _ in range(steps):
        loss = loss_fn(net(x), y)
        if not math.isfinite(loss.item()):
            return loss.item()  # inf or nan: diverged, no need to go on
        net.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in net.parameters():
                param -= learning_rate * param.grad
    return loss_fn(net(x), y).item()  # after the last update


first = loss_fn(untrained(x), y).item()  # 628, before any update
largest_rate = None  # no rate has converged yet
for rate in rates:  # from the smallest to the largest
    last = final_loss(rate)
    converges = last < 0.01 * first
    print(f"rate {rate:<6g}  loss {last:<7.2g}  converges: {converges}")
    if converges:
        largest_rate = rate  # larger than every rate before it

print("largest rate that converges:", largest_rate)
# --8<-- [end:solution-rate]


# --8<-- [start:check-rate]
def check_rate(largest_rate, rates):
    assert largest_rate in rates, (
        f"expected one of {rates}, got {largest_rate}"
    )

    def converges(learning_rate):
        """100 steps from the page's start: is the loss below 1% of it?"""
        net = copy.deepcopy(untrained)
        first = loss_fn(net(x), y).item()
        for _ in range(100):
            loss = loss_fn(net(x), y)
            if not math.isfinite(loss.item()):
                return False  # diverged: no need to go on
            net.zero_grad()
            loss.backward()
            with torch.no_grad():
                for param in net.parameters():
                    param -= learning_rate * param.grad
        return loss_fn(net(x), y).item() < 0.01 * first

    assert converges(largest_rate), (
        f"{largest_rate:g} does not converge: pick a smaller rate"
    )
    larger = [rate for rate in rates if rate > largest_rate]
    if larger:
        assert not converges(larger[0]), (
            f"{larger[0]:g} converges too: pick a larger rate"
        )
    print("right: the largest rate that converges; the next one diverges")


check_rate(largest_rate, rates)
# --8<-- [end:check-rate]


# --8<-- [start:exercise-step]
def train_step(model, learning_rate):
    """One step of gradient descent on x, y; the loss before it, a float."""
    ...


# --8<-- [end:exercise-step]


# --8<-- [start:solution-step]
def train_step(model, learning_rate):
    """One step of gradient descent on x, y; the loss before it, a float."""
    loss = loss_fn(model(x), y)  # 1. forward
    model.zero_grad()
    loss.backward()  # 2. backward, into fresh gradients
    with torch.no_grad():  # 3. update, not recorded
        for param in model.parameters():
            param -= learning_rate * param.grad
    return loss.item()


# --8<-- [end:solution-step]


# --8<-- [start:check-step]
def check_step(train_step):
    net, reference = copy.deepcopy(untrained), copy.deepcopy(untrained)
    for step in (1, 2, 3):  # three steps: each needs fresh gradients
        got = train_step(net, 1e-4)
        loss = loss_fn(reference(x), y)
        reference.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in reference.parameters():
                param -= 1e-4 * param.grad
        assert isinstance(got, float), f"expected a float, got {got!r}"
        assert math.isclose(got, loss.item(), rel_tol=1e-4), (
            f"step {step}: returned {got:.4g}, the loss was {loss.item():.4g}"
        )
        reached = dict(net.named_parameters())
        for name, want in reference.named_parameters():
            assert torch.allclose(reached[name], want, atol=1e-6), (
                f"step {step}: {name} is not where gradient descent puts it;"
                " does each step clear the old gradients?"
            )
    print("right: three steps of gradient descent, each from fresh gradients")


check_step(train_step)
# --8<-- [end:check-step]
