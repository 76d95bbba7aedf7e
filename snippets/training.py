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
