# --8<-- [start:setup]
import shutil
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from tensorboard.backend.event_processing.event_accumulator import (
    DEFAULT_SIZE_GUIDANCE,
    EventAccumulator,
)
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.tensorboard import SummaryWriter

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
# --8<-- [end:setup]

# --8<-- [start:data]
digits = load_digits()  # 1797 8x8 images, values 0..16, shipped with sklearn
images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16
images = F.interpolate(  # 8x8 -> 28x28, the size Net expects
    images, size=(28, 28), mode="bilinear", align_corners=False
)
labels = torch.tensor(digits.target)

half = len(images) // 2  # first half to train on, second half to test on
train_x, train_y = images[:half], labels[:half]
test_x, test_y = images[half:].to(device), labels[half:].to(device)

print(train_x.shape, train_y.shape)
print(test_x.shape, test_y.shape)
print(f"values in [{images.min():.0f}, {images.max():.0f}]")
# --8<-- [end:data]


# --8<-- [start:net]
class Net(nn.Module):
    """The small CNN: 1x28x28 images in, 10 log-probabilities out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.flatten(1)  # (batch, 20, 4, 4) -> (batch, 320)
        x = self.fc(x)
        return F.log_softmax(x, dim=1)


def accuracy(model, x, y):
    """The fraction of the images in x that the model labels correctly."""
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


torch.manual_seed(0)
model = Net().to(device)
print(f"untrained test accuracy: {accuracy(model, test_x, test_y):.1%}")
# --8<-- [end:net]

# --8<-- [start:writer]
log_dir = "runs/digits"  # one folder per run, all under runs/
shutil.rmtree(log_dir, ignore_errors=True)  # a rerun starts the run afresh

writer = SummaryWriter(log_dir)  # creates the folder and an event file
print(writer.get_logdir())
# --8<-- [end:writer]

# --8<-- [start:images]
samples = train_x[:16]  # the first 16 training digits, (16, 1, 28, 28)
writer.add_images("digits/samples", samples)  # one image: a grid of all 16

print(samples.shape)
print(train_y[:16].tolist())
# --8<-- [end:images]

# --8<-- [start:graph]
example = train_x[:4].to(device)  # any batch of the right shape will do

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record warnings instead of raising
    writer.add_graph(model, example)

print(f"{caught[0].category.__name__}: {caught[0].message}")
print(
    "all from torch.jit:", all("torch.jit" in str(w.message) for w in caught)
)
# --8<-- [end:graph]

# --8<-- [start:train]
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
loss_fn = nn.NLLLoss()
loader = DataLoader(
    TensorDataset(train_x, train_y),
    batch_size=32,
    shuffle=True,
    drop_last=True,  # 898 = 28 * 32 + 2: skip the last batch of 2
)

recorded = {"loss/train": [], "accuracy/test": []}  # (step, value) pairs
step = 0  # counts the training steps over all epochs: the x-axis
for epoch in range(3):
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        value = loss.item()  # a Python float: for the log, and for us
        writer.add_scalar("loss/train", value, step)  # one more point
        recorded["loss/train"].append((step, value))
        total += value
        step += 1

    acc = accuracy(model, test_x, test_y)  # once per epoch
    writer.add_scalar("accuracy/test", acc, step)
    recorded["accuracy/test"].append((step, acc))
    print(
        f"epoch {epoch}  {step:2d} steps  mean loss {total / len(loader):.3f}"
        f"  test accuracy {acc:.1%}"
    )

writer.close()  # write what is still buffered, and close the event file
# --8<-- [end:train]

# --8<-- [start:read]
# size_guidance: how many events of a kind to keep; 0 keeps them all.
run = EventAccumulator(log_dir, size_guidance={"images": 0, "scalars": 0})
run.Reload()  # read every event file in the folder

tags = run.Tags()
print("scalars:", tags["scalars"])
print("images: ", tags["images"])
print("graph:  ", tags["graph"])
# What EventAccumulator keeps when size_guidance does not name a kind:
kept = DEFAULT_SIZE_GUIDANCE
print(
    "by default:", kept["images"], "images,", kept["scalars"], "points a tag"
)
# --8<-- [end:read]

# --8<-- [start:scalars]
for tag, pairs in recorded.items():
    logged = run.Scalars(tag)  # ScalarEvents: wall_time, step, value
    print(f"{tag}: {len(logged)} points logged, {len(pairs)} recorded")
    for event, (_, value) in list(zip(logged, pairs))[-3:]:
        print(
            f"  step {event.step:2d}  logged {event.value:.3f}"
            f"  recorded {value:.3f}"
        )

match = all(
    [(e.step, e.value) for e in run.Scalars(tag)] == pairs
    for tag, pairs in recorded.items()
)
print("logged values match:", match)
# --8<-- [end:scalars]

# --8<-- [start:plot]
fig, axes = plt.subplots(
    1, 2, figsize=(5.5, 3), sharex=True, layout="constrained"
)
panels = [("loss/train", "loss (NLL)"), ("accuracy/test", "fraction correct")]
for ax, (tag, unit) in zip(axes, panels):
    events = run.Scalars(tag)  # the points read back from the event file
    ax.plot([e.step for e in events], [e.value for e in events], marker=".")
    ax.set(title=tag, xlabel="step", ylabel=unit)
fig.savefig("tensorboard-curves.svg")
# --8<-- [end:plot]

# --8<-- [start:logged-images]
logged_images = run.Images("digits/samples")  # one event per add_images call
grid = logged_images[0]  # holds a PNG, and its size
tiles = f"{grid.width // 28} x {grid.height // 28}"

print("events:", len(logged_images), " step:", grid.step)
print(f"{grid.width} x {grid.height} pixels: {tiles} digits of 28 x 28")
# --8<-- [end:logged-images]

# --8<-- [start:logged-graph]
graph = run.Graph()  # the GraphDef that add_graph wrote
names = [node.name.split("/") for node in graph.node]
layers = sorted({n[1] for n in names if n[0] == "Net" and len(n) > 2})
functions = sorted(
    {node.op for node in graph.node if node.op.startswith("aten::")}
)
print("layers:", layers)
print("operations:", functions)
# --8<-- [end:logged-graph]

# --8<-- [start:exercise-size-guidance]
size_guidance = ...  # for EventAccumulator: keep every image event
# --8<-- [end:exercise-size-guidance]

# --8<-- [start:solution-size-guidance]
size_guidance = {"images": 0}
# --8<-- [end:solution-size-guidance]


# --8<-- [start:check-size-guidance]
def check_size_guidance(size_guidance):
    import tempfile

    assert isinstance(size_guidance, dict), (
        f"expected a dict such as {{kind: count}}, got {size_guidance}"
    )
    with tempfile.TemporaryDirectory() as folder:
        with SummaryWriter(folder) as writer:
            for step in range(6):  # one image event per step, 0 to 5
                writer.add_images("digits/steps", train_x[:2], step)
        run = EventAccumulator(folder, size_guidance=size_guidance)
        run.Reload()
        steps = [event.step for event in run.Images("digits/steps")]
    assert steps == list(range(6)), (
        f"expected the images of steps 0 to 5, got those of steps {steps}"
    )
    print("right: all 6 image events read back")


check_size_guidance(size_guidance)
# --8<-- [end:check-size-guidance]


# --8<-- [start:exercise-log-losses]
def log_losses(log_dir, losses):
    """Log losses[i] under the tag "loss/valid" at step i, into log_dir."""
    ...


# --8<-- [end:exercise-log-losses]


# --8<-- [start:solution-log-losses]
def log_losses(log_dir, losses):
    """Log losses[i] under the tag "loss/valid" at step i, into log_dir."""
    with SummaryWriter(log_dir) as writer:
        for step, value in enumerate(losses):
            writer.add_scalar("loss/valid", value, step)


# --8<-- [end:solution-log-losses]


# --8<-- [start:check-log-losses]
def check_log_losses(log_losses):
    import tempfile

    losses = [2.0, 1.0, 0.5]  # exact in 32 bits: compared exactly
    with tempfile.TemporaryDirectory() as folder:
        log_losses(folder, losses)
        run = EventAccumulator(folder)
        run.Reload()
        tags = run.Tags()["scalars"]
        assert tags == ["loss/valid"], f"expected ['loss/valid'], got {tags}"
        pairs = [(e.step, e.value) for e in run.Scalars("loss/valid")]
    expected = list(enumerate(losses))
    assert pairs == expected, f"expected {expected}, got {pairs}"
    print("right: 3 points under loss/valid, at steps 0, 1 and 2")


check_log_losses(log_losses)
# --8<-- [end:check-log-losses]


# --8<-- [start:exercise-log-runs]
def log_runs(root, runs):
    """Log each run's losses, runs[name], into its own folder root/name."""
    ...


# --8<-- [end:exercise-log-runs]


# --8<-- [start:solution-log-runs]
def log_runs(root, runs):
    """Log each run's losses, runs[name], into its own folder root/name."""
    for name, losses in runs.items():
        log_losses(f"{root}/{name}", losses)


# --8<-- [end:solution-log-runs]


# --8<-- [start:check-log-runs]
def check_log_runs(log_runs):
    import os
    import tempfile

    runs = {"lr-0.01": [2.0, 1.0], "lr-0.001": [2.0, 1.5, 1.25]}
    with tempfile.TemporaryDirectory() as root:
        log_runs(root, runs)
        folders = sorted(os.listdir(root))
        assert folders == sorted(runs), (
            f"expected the folders {sorted(runs)} in root, got {folders}"
        )
        for name, losses in runs.items():
            run = EventAccumulator(os.path.join(root, name))
            run.Reload()
            logged = [e.value for e in run.Scalars("loss/valid")]
            assert logged == losses, f"{name}: expected {losses}, got {logged}"
    print("right: two runs, each in its own folder with its own points")


check_log_runs(log_runs)
# --8<-- [end:check-log-runs]
