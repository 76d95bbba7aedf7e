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

# The data and network of the previous chapter: 64 random inputs of 1000
# features, 64 random targets of 10 values, one hidden layer of 100 units.
N, D_in, H, D_out = 64, 1000, 100, 10


def build():
    return torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    )


torch.manual_seed(0)
x = torch.randn(N, D_in).to(device)  # made on the CPU, then moved
y = torch.randn(N, D_out).to(device)
initial_weights = copy.deepcopy(build().state_dict())  # kept for every run


def make_model():
    """A fresh network on the device, with the same initial weights."""
    model = build()
    model.load_state_dict(initial_weights)
    return model.to(device)


loss_fn = torch.nn.MSELoss(reduction="sum")

a, b = make_model(), make_model()
print(x.shape, y.shape)
print("parameters:", sum(p.numel() for p in a.parameters()))
print("same start:", torch.equal(a[0].weight, b[0].weight))
# --8<-- [end:setup]


# --8<-- [start:fmt]
def fmt(loss):
    """A loss to 3 significant digits; tiny or non-finite ones in words."""
    if not math.isfinite(loss):
        return "diverged"
    if loss < 1e-5:
        return "< 1e-5"  # fitted: more digits would not tell runs apart
    return f"{loss:.3g}"


# --8<-- [end:fmt]

# --8<-- [start:spacing]
for value in [628.0, 1.0, 1.46e-5]:
    v = torch.tensor(value)  # float32
    up = torch.nextafter(v, torch.tensor(math.inf))  # the next float32
    gap = (up - v).item()
    print(f"near {value:<8g}  gap {gap:.2e}, {gap / value:.1e} of it")
# --8<-- [end:spacing]

# --8<-- [start:loop]
model = make_model()
learning_rate = 1e-4
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

for t in range(500):
    y_pred = model(x)
    loss = loss_fn(y_pred, y)

    optimizer.zero_grad()  # forget the gradients of the previous step
    loss.backward()  # compute new ones into each parameter's .grad
    optimizer.step()  # update every parameter the optimizer was given

    if t % 100 == 0 or t == 499:
        print(f"step {t:3d}  loss {fmt(loss.item())}")
# --8<-- [end:loop]

# --8<-- [start:zero-grad]
weight = model[0].weight
print(weight.grad.shape)  # left over from the last backward()
optimizer.zero_grad()
print(weight.grad is None)  # since PyTorch 2.0: set to None, not zeros
# --8<-- [end:zero-grad]

# --8<-- [start:empty]
params = model.parameters()  # a generator: it can be read only once
first = torch.optim.SGD(params, lr=1e-4)  # reads it to the end
try:
    second = torch.optim.Adam(params, lr=1e-4)  # finds nothing left
except ValueError as error:
    print(f"ValueError: {error}")
# --8<-- [end:empty]


# --8<-- [start:train]
def train(optimizer_class, steps=500, **options):
    """Train a fresh network; return its losses and its optimizer."""
    model = make_model()
    optimizer = optimizer_class(model.parameters(), **options)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, optimizer


# --8<-- [end:train]

# --8<-- [start:compare]
runs = [
    ("SGD", torch.optim.SGD, {"lr": 1e-4}),
    ("SGD + momentum", torch.optim.SGD, {"lr": 1e-4, "momentum": 0.9}),
    ("Adam", torch.optim.Adam, {"lr": 1e-4}),
    ("Adam", torch.optim.Adam, {"lr": 1e-3}),
]
row = "{:<15} {:>6} {:>9} {:>9} {:>9}"
print(row.format("optimizer", "lr", "step 0", "step 99", "step 499"))

results = []
for name, optimizer_class, options in runs:
    losses, trained = train(optimizer_class, **options)  # 500 steps each
    results.append(
        {
            "name": name,
            "lr": options["lr"],
            "losses": losses,
            "optimizer": trained,
        }
    )
    cells = [fmt(losses[t]) for t in (0, 99, 499)]
    print(row.format(name, f"{options['lr']:g}", *cells))

best = min(results, key=lambda r: r["losses"][99])
print(f"lowest at step 99: {best['name']} (lr={best['lr']:g})")
# --8<-- [end:compare]

# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
for run in results:  # the losses train() recorded, one per step
    ax.plot(run["losses"], label=f"{run['name']}, lr={run['lr']:g}")
ax.axvline(99, color="black", linestyle=":")  # the table's step 99
ax.set_yscale("log")
ax.set(xlabel="step", ylabel="loss (sum of squared errors)")
fig.legend(loc="outside lower center", ncols=2)
fig.savefig("optimizer-comparison.svg")
# --8<-- [end:plot]

# --8<-- [start:sweep]
for lr in [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]:
    losses, _ = train(torch.optim.SGD, steps=100, lr=lr)
    print(f"SGD lr={lr:<6g}  loss at step 99: {fmt(losses[-1])}")
# --8<-- [end:sweep]


# --8<-- [start:step-size]
def largest_change(optimizer_class, reduction):
    """How far one step at lr=1e-4 moves the weight that moves most."""
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = optimizer_class(model.parameters(), lr=1e-4)
    loss = torch.nn.MSELoss(reduction=reduction)(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return max(
        (p.detach() - p0).abs().max().item()
        for p, p0 in zip(model.parameters(), before)
    )


for reduction in ["sum", "mean"]:
    for optimizer_class in [torch.optim.SGD, torch.optim.Adam]:
        change = largest_change(optimizer_class, reduction)
        print(f"{reduction:<4} {optimizer_class.__name__:<4}  {change:.2e}")
# --8<-- [end:step-size]


# --8<-- [start:adam-steps]
def adam_moves(lr, report=(1, 10, 100, 200)):
    """Train with Adam; print how far a weight moves at some steps."""
    net = make_model()
    adam = torch.optim.Adam(net.parameters(), lr=lr)
    print("step  largest  median  (moves of the weights, in units of lr)")
    for t in range(1, max(report) + 1):
        before = torch.cat([p.detach().flatten() for p in net.parameters()])
        loss = loss_fn(net(x), y)
        adam.zero_grad()
        loss.backward()
        adam.step()
        after = torch.cat([p.detach().flatten() for p in net.parameters()])
        if t in report:
            moves = (after - before).abs() / lr
            print(f"{t:4d}  {moves.max():7.2f}  {moves.median():6.2f}")


adam_moves(lr=1e-4)  # the Adam run of the first loop, to step 200
# --8<-- [end:adam-steps]

# --8<-- [start:state-dict]
state = optimizer.state_dict()  # the Adam optimizer of the first loop
print(list(state))

group = state["param_groups"][0]
print({k: group[k] for k in ("lr", "betas", "eps", "weight_decay")})
print(group["params"])  # parameters are numbered, not stored
# --8<-- [end:state-dict]

# --8<-- [start:adam-state]
names = [name for name, _ in model.named_parameters()]
for index, per_param in state["state"].items():
    shapes = {k: list(v.shape) for k, v in per_param.items() if k != "step"}
    step = int(per_param["step"])
    print(f"{index} {names[index]:<8} step={step} {shapes}")
# --8<-- [end:adam-state]

# --8<-- [start:held]
print("model parameters:", sum(p.numel() for p in model.parameters()))
for run in results[:3]:
    held = run["optimizer"].state_dict()["state"]
    kinds = sorted({k for per_param in held.values() for k in per_param})
    numbers = sum(
        v.numel() for per_param in held.values() for v in per_param.values()
    )
    print(f"{run['name']:<15} {numbers:>6}  {kinds}")
# --8<-- [end:held]

# --8<-- [start:resume]
# What a checkpoint holds: the model's state and the optimizer's state.
checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}

resumed_model = make_model()
resumed = torch.optim.Adam(resumed_model.parameters(), lr=1e-4)
print(len(resumed.state_dict()["state"]))  # a new optimizer holds nothing

resumed_model.load_state_dict(checkpoint["model"])
resumed.load_state_dict(checkpoint["optimizer"])
print(int(resumed.state_dict()["state"][0]["step"]))
print(resumed.param_groups[0]["lr"])
# --8<-- [end:resume]

# --8<-- [start:exercise-calls]
net = make_model()
sgd = torch.optim.SGD(net.parameters(), lr=1e-3)
for _ in range(100):
    loss = loss_fn(net(x), y)
    ...  # the three calls that make one step, in order
# --8<-- [end:exercise-calls]

# --8<-- [start:solution-calls]
net = make_model()
sgd = torch.optim.SGD(net.parameters(), lr=1e-3)
for _ in range(100):
    loss = loss_fn(net(x), y)
    sgd.zero_grad()
    loss.backward()
    sgd.step()
# --8<-- [end:solution-calls]


# --8<-- [start:check-calls]
def check_calls(net):
    with torch.no_grad():
        loss = loss_fn(net(x), y).item()
    assert loss < 628, "the loss did not fall: did step() follow backward()?"
    assert loss < 0.01, f"expected a loss below 0.01, got {loss:.3g}"
    print("right: 100 steps of SGD took the loss from 628 to below 0.01")


check_calls(net)
# --8<-- [end:check-calls]

# --8<-- [start:exercise-mean]
sgd_lr = ...  # SGD on a mean loss, moving as SGD at lr=1e-4 on the sum
adam_lr = ...  # Adam on a mean loss, moving as Adam at lr=1e-4 on the sum
# --8<-- [end:exercise-mean]

# --8<-- [start:solution-mean]
sgd_lr = 1e-4 * N * D_out  # the mean's gradient is 640 times smaller
adam_lr = 1e-4  # Adam's steps do not depend on the scale of the loss
# --8<-- [end:solution-mean]


# --8<-- [start:check-mean]
def check_mean(sgd_lr, adam_lr):
    def five_steps(optimizer_class, reduction, lr):
        """The summed loss after 5 steps on a loss with this reduction."""
        net = make_model()
        optimizer = optimizer_class(net.parameters(), lr=lr)
        for _ in range(5):
            loss = torch.nn.MSELoss(reduction=reduction)(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss_fn(net(x), y).item()

    for name, optimizer_class, lr in [
        ("SGD", torch.optim.SGD, sgd_lr),
        ("Adam", torch.optim.Adam, adam_lr),
    ]:
        assert isinstance(lr, (int, float)), f"{name}: expected a number"
        want = five_steps(optimizer_class, "sum", 1e-4)
        got = five_steps(optimizer_class, "mean", lr)
        assert math.isclose(got, want, rel_tol=1e-3), (
            f"{name}, lr={lr:g}: loss {got:.4g} after 5 steps, not {want:.4g}"
        )
    print(
        "right: SGD's rate depends on the scale of the loss, Adam's does not"
    )


check_mean(sgd_lr, adam_lr)
# --8<-- [end:check-mean]


# --8<-- [start:exercise-resume]
def resume(checkpoint):
    """A model and an Adam optimizer, where the checkpoint left them."""
    ...


# --8<-- [end:exercise-resume]


# --8<-- [start:solution-resume]
def resume(checkpoint):
    """A model and an Adam optimizer, where the checkpoint left them."""
    model = make_model()
    model.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.Adam(model.parameters())
    optimizer.load_state_dict(checkpoint["optimizer"])  # steps, lr, averages
    return model, optimizer


# --8<-- [end:solution-resume]


# --8<-- [start:check-resume]
def check_resume(resume):
    def steps(model, optimizer, n):
        for _ in range(n):
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    straight = make_model()
    adam = torch.optim.Adam(straight.parameters(), lr=1e-4)
    steps(straight, adam, 10)
    checkpoint = copy.deepcopy(
        {"model": straight.state_dict(), "optimizer": adam.state_dict()}
    )
    steps(straight, adam, 10)  # 20 steps without a break

    got = resume(checkpoint)
    assert isinstance(got, tuple) and len(got) == 2, (
        f"expected (model, optimizer), got {got!r}"
    )
    model, optimizer = got
    assert isinstance(optimizer, torch.optim.Adam), (
        "expected an Adam optimizer"
    )
    steps(model, optimizer, 10)  # 10 steps, 10 more after the checkpoint
    for (name, a), b in zip(model.named_parameters(), straight.parameters()):
        assert torch.allclose(a, b, atol=1e-6), (
            f"{name} differs from 20 steps without a break:"
            " were both state_dicts loaded?"
        )
    print("right: resumed training goes on exactly as if never stopped")


check_resume(resume)
# --8<-- [end:check-resume]
