# --8<-- [start:imports]
import json
import time
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

# --8<-- [end:imports]

# --8<-- [start:device]
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
# --8<-- [end:device]


# --8<-- [start:make-model]
def make_model():
    """A small classifier and its optimizer, the same on every machine."""
    torch.manual_seed(0)  # made on the CPU from a seed...
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    model.to(device)  # ...then moved: a module moves in place
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, optimizer


# --8<-- [end:make-model]


# --8<-- [start:train-epoch]
def train_epoch(model, optimizer, batches):
    """One pass over `batches`; returns the mean loss as a Python float."""
    total = torch.zeros((), device=device)
    count = 0
    for inputs, targets in batches:
        # Copy the batch to the model's device. From pinned memory to a
        # CUDA GPU the copy runs in the background; anywhere else it is
        # an ordinary copy, or nothing if the batch is already there.
        inputs = inputs.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        loss = nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # Add up on the device: loss.item() here would make the CPU wait
        # for the GPU at every step.
        total += loss.detach() * len(targets)
        count += len(targets)
    return (total / count).item()


# --8<-- [end:train-epoch]

# --8<-- [start:data]
# 1024 examples of 64 features; a fixed random map decides the class
# (one of 10). Made on the CPU from a seed: the same data everywhere.
generator = torch.Generator().manual_seed(0)
features = torch.randn(1024, 64, generator=generator)
labels = (features @ torch.randn(64, 10, generator=generator)).argmax(dim=1)
dataset = TensorDataset(features, labels)

loader = DataLoader(
    dataset,
    batch_size=32,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),  # the same order every run
    pin_memory=(device == "cuda"),  # page-locked batches, when on CUDA
)
print(len(dataset), "examples in", len(loader), "batches")
# --8<-- [end:data]

# --8<-- [start:batch]
inputs, targets = next(iter(loader))  # one batch, still on the CPU
print(inputs.shape, inputs.dtype, targets.shape, targets.dtype)
print("pinned exactly when on CUDA:", inputs.is_pinned() == (device == "cuda"))

inputs = inputs.to(device, non_blocking=True)  # a copy on the device
print("on the device:", inputs.device.type == device)
# --8<-- [end:batch]

# --8<-- [start:train]
model, optimizer = make_model()
print("to() returns the module itself:", model.to(device) is model)
print("parameters on the device:", model[0].weight.device.type == device)

for epoch in range(1, 4):
    loss = train_epoch(model, optimizer, loader)
    print(f"epoch {epoch}: mean loss {loss:.3f}")
# --8<-- [end:train]

# --8<-- [start:pin-device]
# Older code named the device to pin for; the loader now ignores that.
old_style = DataLoader(dataset, pin_memory=True, pin_memory_device="cuda")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record warnings instead of raising
    iter(old_style)  # the loader checks its pinning options here
for warning in caught:
    if "pin_memory_device" in str(warning.message):
        print(f"{warning.category.__name__}: {warning.message}")
# --8<-- [end:pin-device]

# --8<-- [start:in-memory]
# Read every item once, as one batch as big as the data set, and keep
# the two tensors on the device for the rest of the run.
everything = DataLoader(dataset, batch_size=len(dataset))
all_inputs, all_targets = next(iter(everything))
all_inputs, all_targets = all_inputs.to(device), all_targets.to(device)

print(all_inputs.shape, all_targets.shape)
print("same data:", torch.equal(all_inputs.cpu(), features))
print(f"{all_inputs.nbytes + all_targets.nbytes:,} bytes")
# --8<-- [end:in-memory]


# --8<-- [start:in-memory-batches]
def batches_in_memory(inputs, targets, batch_size, generator):
    """Shuffled batches cut from tensors that already live on the device."""
    order = torch.randperm(len(inputs), generator=generator).to(device)
    for start in range(0, len(inputs), batch_size):
        index = order[start : start + batch_size]
        yield inputs[index], targets[index]  # indexing: no copy from the CPU


model, optimizer = make_model()
shuffle = torch.Generator().manual_seed(0)
for epoch in range(1, 4):
    batches = batches_in_memory(all_inputs, all_targets, 32, shuffle)
    loss = train_epoch(model, optimizer, batches)
    print(f"epoch {epoch}: mean loss {loss:.3f}")
# --8<-- [end:in-memory-batches]

# --8<-- [start:workers]
workers_loader = DataLoader(
    dataset,
    batch_size=32,
    shuffle=True,
    num_workers=2,  # two processes load batches while this one trains
    prefetch_factor=2,  # each worker keeps up to 2 batches ready
    persistent_workers=True,  # keep the workers alive from epoch to epoch
    pin_memory=(device == "cuda"),
)
ahead = workers_loader.num_workers * workers_loader.prefetch_factor
print("batches loaded ahead, at most:", ahead)

try:  # without workers there is nothing to keep alive
    DataLoader(dataset, batch_size=32, persistent_workers=True)
except ValueError as error:
    print(f"ValueError: {error}")
# --8<-- [end:workers]


# --8<-- [start:slow-dataset]
class SlowDataset(Dataset):
    """Wraps a data set so that each item takes `delay` seconds to arrive,
    as if it were read from a slow disk or over a network."""

    def __init__(self, data, delay):
        self.data = data
        self.delay = delay

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        time.sleep(self.delay)  # waiting, not computing: the CPU is free
        return self.data[index]


# --8<-- [end:slow-dataset]


# --8<-- [start:timed-epochs]
def timed_epochs(batches, epochs=3):
    """Train a fresh model; return each epoch's time and the last loss."""
    model, optimizer = make_model()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        loss = train_epoch(model, optimizer, batches)
        if device == "cuda":
            torch.cuda.synchronize()  # GPU work is asynchronous: wait for it
        times.append(time.perf_counter() - start)
    return times, loss


# --8<-- [end:timed-epochs]


# --8<-- [start:main]
def main():
    # A model this small gains nothing from several CPU threads, and on a
    # busy machine they wait for each other: one keeps the timing fair.
    torch.set_num_threads(1)
    # 96 items that take 5 ms each to arrive: 6 batches of 16 an epoch.
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(96, 64, generator=generator)
    labels = torch.randint(0, 10, (96,), generator=generator)
    slow = SlowDataset(TensorDataset(features, labels), delay=0.005)
    pin = device == "cuda"

    # 1. The training process loads each batch itself, then trains on it.
    serial = DataLoader(slow, batch_size=16, pin_memory=pin)
    # 2. Two worker processes load batches while it trains.
    parallel = DataLoader(
        slow,
        batch_size=16,
        pin_memory=pin,
        num_workers=2,
        prefetch_factor=2,
        persistent_workers=True,
    )
    # 3. Pay for the slow reads once, then cut batches from the device.
    start = time.perf_counter()
    inputs, targets = next(iter(DataLoader(slow, batch_size=len(slow))))
    inputs, targets = inputs.to(device), targets.to(device)
    in_ram = list(zip(inputs.split(16), targets.split(16)))
    read_once = time.perf_counter() - start

    runs = {
        "0 workers": timed_epochs(serial),
        "2 workers": timed_epochs(parallel),
        "in RAM": timed_epochs(in_ram),
    }
    for name, (times, _) in runs.items():
        epochs = ", ".join(
            f"epoch {i} {t:.3f} s" for i, t in enumerate(times, 1)
        )
        print(f"{name + ':':<11}{epochs}")
    print(f"read into RAM once: {read_once:.3f} s")

    # Compare the fastest epochs: a moment when another program held
    # the CPU does not count, and neither does starting the workers.
    speedup = min(runs["0 workers"][0]) / min(runs["2 workers"][0])
    print(f"speed-up with 2 workers: {speedup:.2f}x")
    print("2 workers at least 1.5x faster:", speedup >= 1.5)
    losses = {f"{loss:.4f}" for _, loss in runs.values()}
    print("same losses in all three runs:", len(losses) == 1)

    # Each loader's epoch times, saved for the chart drawn after the run.
    with open("epoch_times.json", "w") as f:
        json.dump({name: times for name, (times, _) in runs.items()}, f)


if __name__ == "__main__":  # workers may import this file: run main once
    main()
    # --8<-- [end:main]

    # --8<-- [start:plot-times]
    with open("epoch_times.json") as f:
        epoch_times = json.load(f)  # what loader_demo.py measured
    fastest = [min(times) for times in epoch_times.values()]

    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    bars = ax.bar(list(epoch_times), fastest)
    ax.bar_label(bars, fmt="%.3f s", padding=3)  # the values, on the bars
    ax.set_ylim(0, 1.2 * max(fastest))  # room above the tallest bar
    ax.set_yticks([])
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_ylabel("fastest epoch (s)")
    # Text as text in the SVG, not as outlines: its numbers stay plain text.
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig("cpu-gpu-epoch-times.svg")
    # --8<-- [end:plot-times]

# --8<-- [start:exercise-pin]
big_batches = DataLoader(
    dataset,
    batch_size=64,
    shuffle=True,
    pin_memory=...,  # pinned batches on CUDA, ordinary ones anywhere else
)
# --8<-- [end:exercise-pin]

# --8<-- [start:solution-pin]
big_batches = DataLoader(
    dataset,
    batch_size=64,
    shuffle=True,
    pin_memory=(device == "cuda"),
)
# --8<-- [end:solution-pin]


# --8<-- [start:check-pin]
def check_pin(loader):
    pin, want = loader.pin_memory, device == "cuda"
    assert isinstance(pin, bool), f"pin_memory should be a bool, not {pin}"
    assert pin == want, f"on {device!r}, pin_memory should be {want}"
    inputs, _ = next(iter(loader))
    assert inputs.is_pinned() == want, f"a batch pinned: {not want}"
    print("right: batches pinned exactly when the device is CUDA")


check_pin(big_batches)
# --8<-- [end:check-pin]

# --8<-- [start:exercise-ahead]
ahead_loader = ...  # 2 workers, 6 batches ahead at most, kept alive
# --8<-- [end:exercise-ahead]

# --8<-- [start:solution-ahead]
ahead_loader = DataLoader(
    dataset,
    batch_size=32,
    num_workers=2,
    prefetch_factor=3,  # per worker: 2 x 3 = 6 batches ahead
    persistent_workers=True,
    pin_memory=(device == "cuda"),
)
# --8<-- [end:solution-ahead]


# --8<-- [start:check-ahead]
def check_ahead(loader):
    assert isinstance(loader, DataLoader), f"expected a DataLoader: {loader}"
    assert loader.batch_size == 32, f"batch size: {loader.batch_size}"
    workers = loader.num_workers
    assert workers == 2, f"expected 2 worker processes, got {workers}"
    ahead = workers * loader.prefetch_factor  # prefetch_factor is per worker
    assert ahead == 6, f"expected 6 batches ahead at most, got {ahead}"
    assert loader.persistent_workers, "the workers should live across epochs"
    assert loader.pin_memory == (device == "cuda"), "pin as the page does"
    print("right: 2 workers, 3 batches each, 6 ahead at most, kept alive")


check_ahead(ahead_loader)  # reads its settings: starts no process
# --8<-- [end:check-ahead]


# --8<-- [start:exercise-to-device]
def to_device(batch):
    """The pair (inputs, targets) of `batch`, on `device`."""
    ...


# --8<-- [end:exercise-to-device]


# --8<-- [start:solution-to-device]
def to_device(batch):
    """The pair (inputs, targets) of `batch`, on `device`."""
    inputs, targets = batch
    inputs = inputs.to(device, non_blocking=True)
    targets = targets.to(device, non_blocking=True)
    return inputs, targets


# --8<-- [end:solution-to-device]


# --8<-- [start:check-to-device]
def check_to_device(to_device):
    batch = next(iter(loader))  # a batch from the loader: on the CPU
    moved = to_device(batch)
    assert isinstance(moved, tuple | list), f"expected a pair, got {moved}"
    assert len(moved) == 2, f"expected (inputs, targets), got {len(moved)}"
    for name, before, after in zip(("inputs", "targets"), batch, moved):
        where = after.device.type
        assert where == device, f"{name}: on {where!r}, not on {device!r}"
        assert after.dtype == before.dtype, f"{name}: dtype {after.dtype}"
        assert torch.equal(after.cpu(), before), f"{name}: values changed"
    there = (all_inputs[:32], all_targets[:32])  # already on the device
    again = to_device(there)
    copied = [a is not b for a, b in zip(again, there)]
    assert not any(copied), "a tensor already on the device came back copied"
    print("right: batches on the device, none copied twice")


check_to_device(to_device)
# --8<-- [end:check-to-device]
