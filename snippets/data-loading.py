# --8<-- [start:setup]
import math

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
# --8<-- [end:setup]

# --8<-- [start:iterations]
N = 1000  # training examples
batch_size = 500  # examples in one forward/backward pass

iterations = math.ceil(N / batch_size)  # passes needed to see every example
print(f"{N} examples, batch size {batch_size}: {iterations} iterations/epoch")
# --8<-- [end:iterations]

# --8<-- [start:tensor-dataset]
# 1000 examples of 10 features, and one target per example: a straight
# line through the features, plus a little noise.
torch.manual_seed(0)
features = torch.randn(N, 10)
true_weights = torch.randn(10, 1)
targets = features @ true_weights + 0.1 * torch.randn(N, 1)

dataset = TensorDataset(features, targets)  # pairs row i of each tensor
x0, y0 = dataset[0]  # one example: a (features, target) tuple

print(len(dataset))
print(x0.shape, y0.shape)
# --8<-- [end:tensor-dataset]

# --8<-- [start:loader]
loader = DataLoader(dataset, batch_size=500)

print(len(loader))  # batches per epoch: the iterations
for xb, yb in loader:  # one epoch
    print(xb.shape, yb.shape)
# --8<-- [end:loader]

# --8<-- [start:batch-sizes]
print("batch size  ceil(N/bs)  len(loader)  last batch")
for bs in [1, 100, 300, 500, 1000]:
    loader = DataLoader(dataset, batch_size=bs)
    sizes = [xb.shape[0] for xb, _ in loader]  # one epoch: each batch's size
    print(
        f"{bs:10d}  {math.ceil(N / bs):10d}  {len(loader):11d}"
        f"  {sizes[-1]:10d}"
    )
# --8<-- [end:batch-sizes]

# --8<-- [start:drop-last]
loader = DataLoader(dataset, batch_size=300, drop_last=True)

print(len(loader), N // 300)  # floor instead of ceil
print([xb.shape[0] for xb, _ in loader])  # every batch has 300 examples
# --8<-- [end:drop-last]

# --8<-- [start:shuffle]
numbers = TensorDataset(torch.arange(10))  # examples 0..9, to see the order

in_order = DataLoader(numbers, batch_size=4)
print("no shuffle:", [batch.tolist() for (batch,) in in_order])

shuffled = DataLoader(
    numbers,
    batch_size=4,
    shuffle=True,  # a new random order every epoch
    generator=torch.Generator().manual_seed(0),  # ...the same on every run
)
for epoch in range(2):
    print(f"epoch {epoch}:", [batch.tolist() for (batch,) in shuffled])
# --8<-- [end:shuffle]


# --8<-- [start:custom]
class NumpyDataset(Dataset):
    """Examples held in NumPy arrays, returned as float32 tensors."""

    def __init__(self, features, targets):
        self.features = features
        self.targets = targets

    def __len__(self):  # how many examples there are
        return len(self.features)

    def __getitem__(self, index):  # example number `index`
        x = torch.from_numpy(self.features[index]).to(torch.float32)
        y = torch.tensor(self.targets[index], dtype=torch.float32)
        return x, y


rng = np.random.default_rng(0)
array_x = rng.normal(size=(1000, 10))  # NumPy's default: float64
array_y = rng.normal(size=1000)

custom = NumpyDataset(array_x, array_y)
x0, y0 = custom[0]
print(len(custom), array_x.dtype)
print(x0.shape, x0.dtype, y0.shape)

xb, yb = next(iter(DataLoader(custom, batch_size=32)))  # the first batch
print(xb.shape, xb.dtype, yb.shape)
# --8<-- [end:custom]

# --8<-- [start:collate-error]
# Any object with __len__ and __getitem__ will do, even a list; here two
# examples of different lengths.
ragged = [torch.zeros(3), torch.zeros(2)]
ragged_loader = DataLoader(ragged, batch_size=2)  # no error yet

try:
    next(iter(ragged_loader))  # the first batch is made here
except RuntimeError as error:
    print(f"RuntimeError: {error}")
# --8<-- [end:collate-error]

# --8<-- [start:train]
torch.manual_seed(0)
model = torch.nn.Linear(10, 1).to(device)  # made on the CPU, then moved
loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

loader = DataLoader(
    dataset,
    batch_size=500,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)

epochs = 2
iteration = 0
for epoch in range(epochs):
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)  # where the model is

        loss = loss_fn(model(xb), yb)  # forward
        optimizer.zero_grad()
        loss.backward()  # backward: forward + backward is one pass
        optimizer.step()

        iteration += 1
        print(
            f"epoch {epoch}  iteration {iteration}  "
            f"batch {tuple(xb.shape)}  loss {loss.item():.3g}"
        )

print(f"iterations: {iteration} = {epochs} epochs x {len(loader)} batches")
print(xb.device.type == device)
# --8<-- [end:train]

# --8<-- [start:memory]
# 1000 small grayscale images, 1 x 28 x 28 pixels each, in float32.
images = TensorDataset(torch.zeros(N, 1, 28, 28))
hidden = torch.nn.Linear(28 * 28, 128)  # a first layer for such images

print("batch  shape                  bytes     KiB  output KiB")
for bs in [1, 32, 500, 1000]:
    (batch,) = next(iter(DataLoader(images, batch_size=bs)))
    batch_bytes = batch.element_size() * batch.nelement()  # 4 bytes each
    with torch.no_grad():
        out = hidden(batch.flatten(1))  # the layer's output for the batch
    out_bytes = out.element_size() * out.nelement()
    print(
        f"{bs:5d}  {str(list(batch.shape)):17s}  {batch_bytes:9,d}"
        f"  {batch_bytes / 1024:6.1f}  {out_bytes / 1024:10.1f}"
    )

weight_bytes = sum(
    p.element_size() * p.nelement() for p in hidden.parameters()
)
print(f"the layer's weights: {weight_bytes / 1024:.1f} KiB at any batch size")
# --8<-- [end:memory]

# --8<-- [start:exercise-full-batches]
full = ...  # a DataLoader over `dataset`: batches of 64, every one full
# --8<-- [end:exercise-full-batches]

# --8<-- [start:solution-full-batches]
full = DataLoader(dataset, batch_size=64, drop_last=True)
# --8<-- [end:solution-full-batches]


# --8<-- [start:check-full-batches]
def check_full_batches(loader):
    assert isinstance(loader, DataLoader), f"expected a DataLoader: {loader!r}"
    assert len(loader) == 15, f"expected 15 batches, got {len(loader)}"
    sizes = [xb.shape[0] for xb, _ in loader]
    assert set(sizes) == {64}, f"expected every batch of 64, got sizes {sizes}"
    print("right: 15 full batches of 64; the other 40 examples are dropped")


check_full_batches(full)
# --8<-- [end:check-full-batches]


# --8<-- [start:exercise-repeat]
def make_loader(seed):
    """Batches of 4 from `numbers`, in a new order every epoch; the same
    orders again on every call with the same seed."""
    ...


# --8<-- [end:exercise-repeat]


# --8<-- [start:solution-repeat]
def make_loader(seed):
    """Batches of 4 from `numbers`, in a new order every epoch; the same
    orders again on every call with the same seed."""
    return DataLoader(
        numbers,
        batch_size=4,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )


# --8<-- [end:solution-repeat]


# --8<-- [start:check-repeat]
def check_repeat(make_loader):
    def two_epochs(loader):  # the order of the numbers, epoch by epoch
        return [torch.cat([b for (b,) in loader]).tolist() for _ in range(2)]

    loader = make_loader(0)
    assert isinstance(loader, DataLoader), f"expected a DataLoader: {loader!r}"
    first = two_epochs(loader)
    for order in first:
        assert sorted(order) == list(range(10)), f"not 0..9 once each: {order}"
    assert first[0] != list(range(10)), "epoch 0 is in order: not shuffled"
    assert first[0] != first[1], "both epochs had the same order"
    again = two_epochs(make_loader(0))
    assert again == first, f"seed 0 twice gave {first} and then {again}"
    assert two_epochs(make_loader(1)) != first, "seed 1 gave seed 0's orders"
    print("right: a new order every epoch, the same orders for the same seed")


check_repeat(make_loader)
# --8<-- [end:check-repeat]

# --8<-- [start:exercise-csv]
lines = [  # one example per line: three features, then a class label
    "5.1,3.5,1.4,0",
    "4.9,3.0,1.4,0",
    "6.2,2.9,4.3,1",
    "5.9,3.0,5.1,2",
    "6.0,2.2,4.0,1",
]


class CsvDataset(Dataset):
    """Examples held as lines of text: (float32 features, int64 label)."""

    def __init__(self, lines, transform=None): ...

    def __len__(self): ...

    def __getitem__(self, index): ...


# --8<-- [end:exercise-csv]


# --8<-- [start:solution-csv]
class CsvDataset(Dataset):
    """Examples held as lines of text: (float32 features, int64 label)."""

    def __init__(self, lines, transform=None):
        self.lines = lines
        self.transform = transform  # a function of the features, or None

    def __len__(self):
        return len(self.lines)

    def __getitem__(self, index):
        *values, label = self.lines[index].split(",")
        x = torch.tensor([float(v) for v in values])  # float32, shape [3]
        if self.transform is not None:
            x = self.transform(x)
        return x, torch.tensor(int(label))  # int64, shape []


# --8<-- [end:solution-csv]


# --8<-- [start:check-csv]
def check_csv(CsvDataset, lines):
    plain = CsvDataset(lines)
    n = plain.__len__()  # what len() calls; len() fails unless it is an int
    assert n == len(lines), f"expected {len(lines)} examples, got {n}"
    item = plain[2]
    assert isinstance(item, tuple) and len(item) == 2, (
        f"expected a (features, label) tuple, got {item!r}"
    )
    x, y = item
    assert isinstance(x, torch.Tensor), f"features: expected a tensor: {x!r}"
    assert x.shape == (3,), (
        f"features: expected shape (3,), got {tuple(x.shape)}"
    )
    assert x.dtype == torch.float32, f"features: expected float32: {x.dtype}"
    assert torch.equal(x, torch.tensor([6.2, 2.9, 4.3])), f"example 2 gave {x}"
    assert isinstance(y, torch.Tensor), f"label: expected a tensor: {y!r}"
    assert y.shape == (), f"label: expected shape (), got {tuple(y.shape)}"
    assert y.dtype == torch.int64, f"label: expected int64, got {y.dtype}"
    assert y == 1, f"example 2's label is 1, got {y}"

    doubled = CsvDataset(lines, transform=lambda t: 2 * t)
    assert torch.equal(doubled[2][0], 2 * x), "the transform was not applied"
    assert torch.equal(doubled[2][1], y), "the transform changed the label"

    xb, yb = next(iter(DataLoader(plain, batch_size=4)))
    assert xb.shape == (4, 3), f"batch: expected (4, 3), got {tuple(xb.shape)}"
    assert yb.shape == (4,), f"labels: expected (4,), got {tuple(yb.shape)}"
    print("right: 5 examples of float32 [3] and int64 [], batched to [4, 3]")


check_csv(CsvDataset, lines)
# --8<-- [end:check-csv]
