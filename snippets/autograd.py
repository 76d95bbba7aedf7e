# --8<-- [start:requires-grad]
import textwrap
import warnings

import torch

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# requires_grad=True: autograd records every operation done with `x`.
x = torch.tensor([-1.0, 0.0, 0.5, 2.0], device=device, requires_grad=True)


def f(t):
    """y = sum(t**3 + 2t): one number, as a loss is."""
    return (t**3 + 2 * t).sum()


y = f(x)

print("x:", x.shape, x.requires_grad, x.is_leaf)
print("y:", y.shape, y.requires_grad, y.is_leaf)
print(f"y = {y.item():.4f}")
# --8<-- [end:requires-grad]

# --8<-- [start:grad-fn]
print(x.grad_fn)  # x was made by you, not computed: no grad_fn


def show_graph(node, depth=0):
    """Print the backward graph from `node` down to the leaves."""
    print("    " * depth + type(node).__name__)
    for child, _ in node.next_functions:
        if child is not None:
            show_graph(child, depth + 1)


show_graph(y.grad_fn)  # starts at the operation that made y
# --8<-- [end:grad-fn]

# --8<-- [start:backward]
print(x.grad)  # nothing yet

y.backward()  # walk the graph back from y, filling x.grad

print(x.grad.cpu())  # dy/dx, one value per element of x
print(x.grad.shape)
# --8<-- [end:backward]

# --8<-- [start:check]
# By hand: d/dx (x**3 + 2x) = 3x**2 + 2, for each element.
by_hand = [3 * v**2 + 2 for v in x.tolist()]

print("     x   x.grad  3x^2+2")
for v, g, h in zip(x.tolist(), x.grad.tolist(), by_hand):
    print(f"{v:6.2f} {g:8.4f} {h:7.4f}")
print(torch.allclose(x.grad, torch.tensor(by_hand, device=device)))
# --8<-- [end:check]

# --8<-- [start:non-leaf]
w = torch.tensor([1.0, 2.0], device=device, requires_grad=True)
h = w * 3  # not a leaf: computed from w
loss = (h**2).sum()
print(h.is_leaf, h.retains_grad)

loss.backward()  # computes dloss/dh on its way to w, then drops it
print(w.grad.cpu())  # dloss/dw = dloss/dh * 3 = 2h * 3

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record the warning, do not raise it
    print(h.grad)  # not kept
first_sentence = str(caught[0].message).split(". ")[0]
print(f"{caught[0].category.__name__}: {first_sentence}")
# --8<-- [end:non-leaf]

# --8<-- [start:retain-grad]
w.grad = None
h = w * 3
h.retain_grad()  # before backward: keep this non-leaf's gradient
loss = (h**2).sum()
print(h.is_leaf, h.retains_grad)

loss.backward()
print(h.grad.cpu())  # dloss/dh = 2h
print(w.grad.cpu())
# --8<-- [end:retain-grad]

# --8<-- [start:twice]
try:
    y.backward()  # the same graph again: its saved values are gone
except RuntimeError as error:
    first_line = str(error).splitlines()[0]
    print(textwrap.fill(f"RuntimeError: {first_line}", 79))  # wrapped
# --8<-- [end:twice]

# --8<-- [start:accumulate]
x.grad = None  # start from no gradient

for step in (1, 2):
    y = f(x)  # a new forward pass builds a new graph
    y.backward()
    print(f"after backward {step}:", x.grad.cpu())

x.grad.zero_()  # one way to reset: fill the gradient with zeros
print("after zero_():   ", x.grad.cpu())
x.grad = None  # the other way: drop it
print("after = None:    ", x.grad)
# --8<-- [end:accumulate]

# --8<-- [start:zero-grad]
optimizer = torch.optim.SGD([x], lr=0.1)  # an optimizer that updates x

f(x).backward()
print(x.grad.cpu())
optimizer.zero_grad()  # resets the gradient of every parameter it holds
print(x.grad)
# --8<-- [end:zero-grad]

# --8<-- [start:detach]
x_values = x.detach()  # the same data, outside the graph

print(x_values.requires_grad, x_values.grad_fn)
print("same memory:", x_values.data_ptr() == x.data_ptr())
print(x_values.cpu())
# --8<-- [end:detach]

# --8<-- [start:stop-gradient]
x.grad = None
(x * x).sum().backward()  # both factors tracked: d/dx x**2 = 2x
print(x.grad.cpu())

x.grad = None
(x * x.detach()).sum().backward()  # one factor a constant: the gradient is x
print(x.grad.cpu())
# --8<-- [end:stop-gradient]

# --8<-- [start:no-grad]
with torch.no_grad():  # nothing inside this block is recorded
    z = f(x)

print(z.shape, z.requires_grad, z.grad_fn)
print(f"z = {z.item():.4f}")
# --8<-- [end:no-grad]

# --8<-- [start:update]
x.grad = None
f(x).backward()
step = 0.1 * x.grad

try:
    x -= step  # an in-place change autograd would have to record
except RuntimeError as error:
    print(f"RuntimeError: {error}")

with torch.no_grad():
    x -= step  # the update itself is not part of the model's computation

print(x.detach().cpu())
print(x.requires_grad, x.is_leaf)
# --8<-- [end:update]

# --8<-- [start:inference-mode]
with torch.inference_mode():  # like no_grad, and faster
    frozen = x * 2

print(frozen.shape, frozen.requires_grad, frozen.grad_fn)
print(frozen.is_inference())

try:
    (frozen * x).sum()  # autograd would have to save `frozen` for backward
except RuntimeError as error:
    first_line = str(error).splitlines()[0]
    print(textwrap.fill(f"RuntimeError: {first_line}", 79))  # wrapped

x.grad = None
(frozen.clone() * x).sum().backward()  # a clone is an ordinary tensor
print(x.grad.cpu())  # the gradient of sum(frozen * x) is frozen
# --8<-- [end:inference-mode]

# --8<-- [start:exercise-leaf]
p = ...  # 1.0, -2.0 and 3.0 on `device`: a leaf that autograd records
# --8<-- [end:exercise-leaf]

# --8<-- [start:solution-leaf]
p = torch.tensor([1.0, -2.0, 3.0], device=device, requires_grad=True)
# --8<-- [end:solution-leaf]


# --8<-- [start:check-leaf]
def check_leaf(p):
    assert isinstance(p, torch.Tensor), f"expected a tensor, got {type(p)}"
    assert p.requires_grad, "p is not recorded: pass requires_grad=True"
    assert p.is_leaf, "p is not a leaf: make it with device=, not .to(device)"
    assert p.device.type == device, f"expected {device}, got {p.device.type}"
    values = p.tolist()
    assert values == [1.0, -2.0, 3.0], f"expected 1, -2, 3, got {values}"
    p.grad = None
    (p**2).sum().backward()
    grad = p.grad.tolist()
    assert grad == [2.0, -4.0, 6.0], f"expected [2.0, -4.0, 6.0], got {grad}"
    print("right: p is a leaf that records; the gradient of sum(p**2) is 2p")


check_leaf(p)
# --8<-- [end:check-leaf]

# --8<-- [start:exercise-reset]
weight = torch.tensor([1.0, 2.0], device=device, requires_grad=True)
grads = []
for scale in (1.0, 2.0, 3.0):
    ...  # make this step's gradient its own
    (scale * weight**2).sum().backward()  # the gradient is 2 * scale * weight
    grads.append(weight.grad.tolist())
# --8<-- [end:exercise-reset]

# --8<-- [start:solution-reset]
weight = torch.tensor([1.0, 2.0], device=device, requires_grad=True)
grads = []
for scale in (1.0, 2.0, 3.0):
    weight.grad = None  # drop the gradient of the step before
    (scale * weight**2).sum().backward()  # the gradient is 2 * scale * weight
    grads.append(weight.grad.tolist())
# --8<-- [end:solution-reset]


# --8<-- [start:check-reset]
def check_reset(grads):
    expected = [[2.0, 4.0], [4.0, 8.0], [6.0, 12.0]]
    assert len(grads) == 3, f"expected 3 gradients, got {len(grads)}"
    for step, (got, want) in enumerate(zip(grads, expected), start=1):
        assert got == want, (
            f"step {step}: expected {want}, got {got}; "
            "is an earlier step's gradient still in weight.grad?"
        )
    print("right: each step's gradient is its own")


check_reset(grads)
# --8<-- [end:check-reset]


# --8<-- [start:exercise-numeric]
def numeric_grad(f, x, eps=1e-2):
    """Estimate the gradient of f at the 1-D tensor x, without autograd."""
    ...


# --8<-- [end:exercise-numeric]


# --8<-- [start:solution-numeric]
def numeric_grad(f, x, eps=1e-2):
    """Estimate the gradient of f at the 1-D tensor x, without autograd."""
    estimate = torch.zeros_like(x)  # zeros_like does not copy requires_grad
    with torch.no_grad():  # f is only evaluated: nothing to record
        for i in range(len(x)):
            step = torch.zeros_like(x)
            step[i] = eps  # move element i only
            estimate[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return estimate


# --8<-- [end:solution-numeric]


# --8<-- [start:check-numeric]
def check_numeric_grad(numeric_grad):
    point = torch.tensor(
        [-1.0, 0.0, 0.5, 2.0], device=device, requires_grad=True
    )
    f(point).backward()  # autograd's gradient, to compare with
    got = numeric_grad(f, point)
    assert isinstance(got, torch.Tensor), f"expected a tensor, got {type(got)}"
    assert got.shape == (4,), f"expected shape (4,), got {tuple(got.shape)}"
    assert not got.requires_grad, (
        "the estimate was recorded: use torch.no_grad()"
    )
    gap = (got - point.grad).abs().max().item()
    assert gap <= 0.01, f"expected {point.grad.tolist()}, got {got.tolist()}"
    print("right: the estimate is within 0.01 of autograd's gradient")


check_numeric_grad(numeric_grad)
# --8<-- [end:check-numeric]
