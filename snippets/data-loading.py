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
