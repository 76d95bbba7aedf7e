# --8<-- [start:script]
"""Train the digits CNN with seed 0 for 10 epochs on the CPU; print the end."""

import math

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.set_num_threads(1)  # one thread: only the CPU code differs between runs
digits = load_digits()  # as on the digits page: 28x28, in [0, 1]
x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16
x = F.interpolate(x, size=(28, 28), mode="bilinear")
mean, std = x[:898].mean(), x[:898].std()  # standardize after augmenting
labels = torch.tensor(digits.target)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


def random_affine(batch, generator, shift=3, degrees=15, zoom=0.15):
    def uniform(limit):  # as on the digits page: numbers in [-limit, limit)
        return (torch.rand(len(batch), generator=generator) * 2 - 1) * limit

    angle, scale = uniform(math.radians(degrees)), 1 + uniform(zoom)
    dx, dy = uniform(shift / 14), uniform(shift / 14)
    cos, sin = scale * angle.cos(), scale * angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, dx], 1), torch.stack([sin, cos, dy], 1)], 1
    )
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, align_corners=False)


torch.manual_seed(0)
model = Net()
generator = torch.Generator().manual_seed(0)
loader = DataLoader(
    TensorDataset(x[:898], labels[:898]),
    batch_size=64,
    shuffle=True,
    generator=generator,
)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
losses = []
for _ in range(10):  # no learning-rate schedule: a short run
    total = 0.0
    for batch, targets in loader:
        batch = (random_affine(batch, generator) - mean) / std
        loss = F.nll_loss(model(batch), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    losses.append(total / 898)

with torch.no_grad():
    predicted = model((x[898:] - mean) / std).argmax(dim=1)
accuracy = (predicted == labels[898:]).float().mean()
print(
    f"{torch.backends.cpu.get_cpu_capability():<8} "  # the CPU code ATen ran
    f"epoch 1 loss {losses[0]:.6f}  epoch 10 loss {losses[-1]:.6f}  "
    f"test accuracy {accuracy:.4f}"
)
# --8<-- [end:script]
