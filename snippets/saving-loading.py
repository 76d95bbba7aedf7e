# --8<-- [start:setup]
import argparse
import copy
import os
import pickle
import zipfile

import torch

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# The two-layer network and the random data of "Training a simple network".
N, D_in, H, D_out = 64, 1000, 100, 10
batch_size = 16

torch.manual_seed(0)
x = torch.randn(N, D_in).to(device)
y = torch.randn(N, D_out).to(device)


def build_model(hidden=H):
    """A new network with fresh random weights, made on the CPU, then moved."""
    return torch.nn.Sequential(
        torch.nn.Linear(D_in, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, D_out),
    ).to(device)


loss_fn = torch.nn.MSELoss()


def train(model, optimizer, epochs):
    """Train on shuffled mini-batches; return the loss of the last batch."""
    for _ in range(epochs):
        order = torch.randperm(N)  # a new random order each epoch (CPU RNG)
        for start in range(0, N, batch_size):
            batch = order[start : start + batch_size].to(device)
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return loss.item()


model = build_model()
initial = copy.deepcopy(model.state_dict())  # the starting weights, kept
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

print(x.shape, y.shape)
print(f"loss after 10 epochs: {train(model, optimizer, 10):.3g}")
# --8<-- [end:setup]

# --8<-- [start:state-dict]
state = model.state_dict()

print(type(state).__name__)
for name, tensor in state.items():
    print(f"{name:<8} {tensor.shape}")
print(list(torch.nn.BatchNorm1d(3).state_dict()))  # buffers are in it too
# --8<-- [end:state-dict]

# --8<-- [start:shares]
same_memory = state["0.weight"].data_ptr() == model[0].weight.data_ptr()
print("shares memory with the model:", same_memory)
# --8<-- [end:shares]

# --8<-- [start:save]
torch.save(model.state_dict(), "weights.pt")  # a file in the current folder

restored = build_model()  # a new network: other random weights
with torch.no_grad():
    print("same outputs before:", torch.equal(model(x), restored(x)))

loaded = torch.load("weights.pt", map_location=device, weights_only=True)
print(restored.load_state_dict(loaded))
restored.eval()  # evaluation mode (matters for dropout and batch norm)
with torch.no_grad():
    print("same outputs after: ", torch.equal(model(x), restored(x)))
    print(restored(x).shape)
# --8<-- [end:save]

# --8<-- [start:archive]
with zipfile.ZipFile("weights.pt") as archive:  # a .pt file is a zip archive
    for name in archive.namelist():
        print(name)
# --8<-- [end:archive]

# --8<-- [start:mismatch]
narrower = build_model(hidden=50)  # 50 hidden units instead of 100

try:
    narrower.load_state_dict(loaded)
except RuntimeError as error:
    print(f"RuntimeError: {str(error).splitlines()[0]}")
    print(str(error).splitlines()[1].strip())
# --8<-- [end:mismatch]

# --8<-- [start:map-location]
on_cpu = torch.load("weights.pt", map_location="cpu", weights_only=True)
on_device = torch.load("weights.pt", map_location=device, weights_only=True)

print("all on the CPU:", all(t.device.type == "cpu" for t in on_cpu.values()))
print(
    "all on the device:",
    all(t.device.type == device for t in on_device.values()),
)
# --8<-- [end:map-location]

# --8<-- [start:straight]
EPOCHS = 20

straight = build_model()
straight.load_state_dict(initial)  # the starting weights of `model`
straight_opt = torch.optim.Adam(straight.parameters(), lr=1e-3)

torch.manual_seed(1)  # the seed for the shuffling
loss = train(straight, straight_opt, EPOCHS)
print(f"straight, {EPOCHS} epochs: loss {loss:.3g}")
# --8<-- [end:straight]

# --8<-- [start:checkpoint]
first = build_model()
first.load_state_dict(initial)  # the same start...
first_opt = torch.optim.Adam(first.parameters(), lr=1e-3)

torch.manual_seed(1)  # ...and the same shuffling
loss = train(first, first_opt, EPOCHS // 2)  # interrupted halfway

checkpoint = {
    "model": first.state_dict(),
    "optimizer": first_opt.state_dict(),
    "epoch": EPOCHS // 2,
    "loss": loss,
    "rng_state": torch.get_rng_state(),  # where the shuffling stands
}
torch.save(checkpoint, "checkpoint.pt")

print(list(checkpoint))
print(f"epoch {checkpoint['epoch']}, loss {checkpoint['loss']:.3g}")
size = os.path.getsize("checkpoint.pt") / os.path.getsize("weights.pt")
print(f"file size, checkpoint / weights: {size:.1f}")
# --8<-- [end:checkpoint]

# --8<-- [start:resume]
# A new program: it seeds, builds a model and an optimizer, then loads.
torch.manual_seed(0)
resumed = build_model()
resumed_opt = torch.optim.Adam(resumed.parameters(), lr=1e-3)

checkpoint = torch.load(
    "checkpoint.pt", map_location=device, weights_only=True
)
resumed.load_state_dict(checkpoint["model"])
resumed_opt.load_state_dict(checkpoint["optimizer"])
torch.set_rng_state(checkpoint["rng_state"].cpu())  # a CPU state, always
start_epoch = checkpoint["epoch"]

loss = train(resumed, resumed_opt, EPOCHS - start_epoch)
print(f"resumed at epoch {start_epoch}, after epoch {EPOCHS}: loss {loss:.3g}")


def same_weights(a, b):
    """True when every tensor of the two models is exactly equal."""
    return all(
        torch.equal(p, q)
        for p, q in zip(a.state_dict().values(), b.state_dict().values())
    )


print("same weights as the straight run:", same_weights(resumed, straight))
# --8<-- [end:resume]

# --8<-- [start:no-optimizer]
no_opt = build_model()
no_opt.load_state_dict(checkpoint["model"])
new_opt = torch.optim.Adam(no_opt.parameters(), lr=1e-3)  # state not loaded
torch.set_rng_state(checkpoint["rng_state"].cpu())

loss = train(no_opt, new_opt, EPOCHS - start_epoch)
print(f"without the optimizer state: loss {loss:.3g}")
print("same weights as the straight run:", same_weights(no_opt, straight))
# --8<-- [end:no-optimizer]

# --8<-- [start:no-rng]
no_rng = build_model()
no_rng.load_state_dict(checkpoint["model"])
no_rng_opt = torch.optim.Adam(no_rng.parameters(), lr=1e-3)
no_rng_opt.load_state_dict(checkpoint["optimizer"])
# The random state is not restored: the batches come in another order.

loss = train(no_rng, no_rng_opt, EPOCHS - start_epoch)
print(f"without the random state: loss {loss:.3g}")
print("same weights as the straight run:", same_weights(no_rng, straight))
# --8<-- [end:no-rng]


# --8<-- [start:untrusted]
class Harmless:
    """Pickles as a call to print(...), made when the file is loaded."""

    def __reduce__(self):
        return (print, ("this ran while loading!",))


torch.save({"weights": torch.ones(2), "extra": Harmless()}, "untrusted.pt")
# --8<-- [end:untrusted]


# --8<-- [start:refused]
def reason(error):
    """The line of the long message that names what was refused."""
    lines = str(error).splitlines()
    line = next(line for line in lines if "Unsupported global" in line)
    return line.strip().split(". ")[0] + "."  # up to its first full stop


try:
    torch.load("untrusted.pt", weights_only=True)
except pickle.UnpicklingError as error:
    print(type(error).__name__)
    print(str(error).split(". ")[0] + ".")  # the first sentence
    print(reason(error))
# --8<-- [end:refused]

# --8<-- [start:ran]
contents = torch.load(
    "untrusted.pt", weights_only=False
)  # trusted files only!
print(contents)
# --8<-- [end:ran]

# --8<-- [start:safe-globals]
settings = argparse.Namespace(lr=1e-3, batch_size=16)  # e.g. parsed arguments
torch.save({"model": model.state_dict(), "args": settings}, "with-args.pt")

try:
    torch.load("with-args.pt", weights_only=True)
except pickle.UnpicklingError as error:
    print(reason(error))

torch.serialization.add_safe_globals([argparse.Namespace])  # trust this class
print(torch.load("with-args.pt", weights_only=True)["args"])
# --8<-- [end:safe-globals]

# --8<-- [start:whole-model]
torch.save(model, "whole-model.pt")  # the object itself, pickled

try:
    torch.load("whole-model.pt", weights_only=True)
except pickle.UnpicklingError as error:
    print(reason(error))

whole = torch.load("whole-model.pt", weights_only=False)  # our own file
with torch.no_grad():
    print("same outputs:", torch.equal(model(x), whole(x)))
# --8<-- [end:whole-model]

# --8<-- [start:exercise-snapshot]
snapshot = ...  # the weights of `model` as they are now, kept as it trains
# --8<-- [end:exercise-snapshot]

# --8<-- [start:solution-snapshot]
snapshot = copy.deepcopy(model.state_dict())
# --8<-- [end:solution-snapshot]


# --8<-- [start:check-snapshot]
def check_snapshot(snapshot, model):
    state = model.state_dict()
    assert isinstance(snapshot, dict), f"expected a dict, got {snapshot!r}"
    assert list(snapshot) == list(state), f"expected the keys {list(state)}"
    for name, tensor in snapshot.items():
        assert torch.equal(tensor, state[name]), f"{name}: not the model's"
        assert tensor.data_ptr() != state[name].data_ptr(), (
            f"{name} shares memory with the model: it changes as it trains"
        )
    print("right: a copy of the weights, which training will not change")


check_snapshot(snapshot, model)
# --8<-- [end:check-snapshot]

# --8<-- [start:exercise-settings]
run_settings = argparse.Namespace(lr=0.01, epochs=5)
saved = ...  # run_settings, as something weights_only=True loads
# --8<-- [end:exercise-settings]

# --8<-- [start:solution-settings]
run_settings = argparse.Namespace(lr=0.01, epochs=5)
saved = vars(run_settings)  # {'lr': 0.01, 'epochs': 5}, a plain dict
# --8<-- [end:solution-settings]


# --8<-- [start:check-settings]
def check_settings(saved):
    torch.save({"settings": saved}, "settings-check.pt")
    try:
        loaded = torch.load("settings-check.pt", weights_only=True)
    except pickle.UnpicklingError as error:
        message = f"weights_only=True refused it: {reason(error)}"
        raise AssertionError(message) from None
    settings = loaded["settings"]
    assert type(settings) is dict, (
        f"expected a plain dict, got {type(settings).__name__}: it loads"
        " here only because add_safe_globals trusted it above"
    )
    assert settings == {"lr": 0.01, "epochs": 5}, f"got {settings}"
    print("right: plain types only, loaded with weights_only=True")


check_settings(saved)
# --8<-- [end:check-settings]


# --8<-- [start:exercise-resume]
def resume(path):
    """A new model and Adam optimizer, loaded from the checkpoint at `path`,
    with the random state restored; returns (model, optimizer, epoch)."""
    ...


# --8<-- [end:exercise-resume]


# --8<-- [start:solution-resume]
def resume(path):
    """A new model and Adam optimizer, loaded from the checkpoint at `path`,
    with the random state restored; returns (model, optimizer, epoch)."""
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    torch.set_rng_state(checkpoint["rng_state"].cpu())
    return model, optimizer, checkpoint["epoch"]


# --8<-- [end:solution-resume]


# --8<-- [start:check-resume]
def check_resume(resume):
    torch.manual_seed(2)
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, optimizer, 3)
    saved_rng = torch.get_rng_state()
    checkpoint = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 3,
        "rng_state": saved_rng,
    }
    torch.save(checkpoint, "resume-check.pt")
    reference = train(model, optimizer, 3)  # the run, not interrupted

    torch.manual_seed(0)  # the generator elsewhere, as in a new program
    got = resume("resume-check.pt")
    assert isinstance(got, tuple) and len(got) == 3, (
        f"expected (model, optimizer, epoch), got {got!r}"
    )
    resumed, resumed_opt, epoch = got
    assert epoch == 3, f"expected epoch 3, got {epoch!r}"
    assert resumed_opt.state_dict()["state"], (
        "the optimizer has no state: load the checkpoint's"
    )
    assert torch.equal(torch.get_rng_state(), saved_rng), (
        "the random state is not the checkpoint's (restore it after"
        " build_model(), which draws from it)"
    )
    loss = train(resumed, resumed_opt, 3)
    assert same_weights(resumed, model), "other weights than the run's"
    assert loss == reference, f"loss {loss}, the run's was {reference}"
    print("right: resumed, it ends with the run's exact loss and weights")


check_resume(resume)
# --8<-- [end:check-resume]
