# --8<-- [start:setup]
import math
from collections import Counter

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn import svm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# One CPU thread: the same sums in the same order on every run of this
# machine (see the section "The same numbers on every CPU run").
torch.set_num_threads(1)
# --8<-- [end:setup]

# --8<-- [start:load]
digits = load_digits()  # ships inside scikit-learn: nothing to download

print(digits.images.shape, digits.images.dtype)
print(digits.target.shape, digits.target[:12])
print("values:", digits.images.min(), "to", digits.images.max())
# --8<-- [end:load]

# --8<-- [start:draw]
SHADES = " .:-=+*#%@"  # from no ink (0.0) to full ink (1.0)


def draw(image, width=2):
    """An image with values in [0, 1] as lines of text.

    Each pixel is `width` characters wide: a character is about twice as
    tall as it is wide, so 2 make a square pixel.
    """
    return [
        "".join(SHADES[round(v * 9)] * width for v in row)
        for row in image.tolist()
    ]


def show(images, captions, width=2, gap="   "):
    """Print images side by side, each under its caption."""
    drawings = [draw(image, width) for image in images]
    column = len(drawings[0][0])  # characters per image
    print(gap.join(f"{c:<{column}}" for c in captions).rstrip())
    for lines in zip(*drawings):
        print(gap.join(lines).rstrip())


show(digits.images[:4] / 16, [f"label {t}" for t in digits.target[:4]])
# --8<-- [end:draw]

# --8<-- [start:split]
n_train = len(digits.images) // 2  # first half: train; second half: test

# scikit-learn's example works on the 64 pixel values of each image, and
# splits without shuffling: the same halves.
data = digits.images.reshape(len(digits.images), -1)
X_train, X_test, y_train, y_test = train_test_split(
    data, digits.target, test_size=0.5, shuffle=False
)
print(X_train.shape, X_test.shape)
print("first half, second half:", (X_train == data[:n_train]).all())
# --8<-- [end:split]

# --8<-- [start:svc]
svc = svm.SVC(gamma=0.001)  # scikit-learn's example, unchanged
svc.fit(X_train, y_train)
svc_predicted = svc.predict(X_test)
svc_accuracy = (svc_predicted == y_test).mean()

print(svc_predicted.shape)
print(f"SVC test accuracy: {svc_accuracy:.3f}")
# --8<-- [end:svc]

# --8<-- [start:too-small]
small = torch.tensor(digits.images[:4], dtype=torch.float32).unsqueeze(1)
print(small.shape)  # (batch, channel, height, width)

conv1 = nn.Conv2d(1, 10, kernel_size=5)  # Net's first layer
conv2 = nn.Conv2d(10, 20, kernel_size=5)  # and its second
try:
    conv2(F.max_pool2d(conv1(small), 2))
except RuntimeError as error:
    print("RuntimeError:", error)
# --8<-- [end:too-small]

# --8<-- [start:modes]
# 0..16 -> 0..1, float32, and a channel dimension: (1797, 1, 8, 8).
x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16

for mode in ["nearest", "bilinear", "bicubic"]:
    up = F.interpolate(x, size=(28, 28), mode=mode)
    print(f"{mode:<8}  min {up.min():.2f}  max {up.max():.2f}")
# --8<-- [end:modes]

# --8<-- [start:upsample]
images = F.interpolate(x, size=(28, 28), mode="bilinear")
labels = torch.tensor(digits.target)
print(images.shape, images.dtype, labels.shape, labels.dtype)

# Text lines are twice as tall as a character is wide: average each pair of
# rows, so that a 28x28 image shows as 14 lines of 28 characters.
nearest = F.interpolate(x[:1], size=(28, 28), mode="nearest")
pair = torch.cat([nearest, images[:1]])  # the first digit, both ways
show(F.avg_pool2d(pair, (2, 1))[:, 0], ["nearest", "bilinear"], width=1)
# --8<-- [end:upsample]

# --8<-- [start:standardize]
train_images, train_labels = images[:n_train], labels[:n_train]
test_images, test_labels = images[n_train:], labels[n_train:]

# Computed on the training half only: the test half stays unseen.
mean, std = train_images.mean().item(), train_images.std().item()


def standardize(batch):
    """Shift and scale pixels so the training images have mean 0, std 1."""
    return (batch - mean) / std


print(train_images.shape, test_images.shape)
print(f"mean {mean:.4f}  std {std:.4f}")
print(f"background {standardize(torch.tensor(0.0)):.4f}")
# --8<-- [end:standardize]


# --8<-- [start:net]
class Net(nn.Module):
    """The small CNN of "Modules and a small CNN": 1x28x28 images in,
    10 log-probabilities out."""

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

    # --8<-- [end:net]


# --8<-- [start:loss]
torch.manual_seed(0)
log_probs = Net()(standardize(train_images[:4]))  # untrained, on the CPU
targets = train_labels[:4]

loss_fn = nn.NLLLoss()
loss = loss_fn(log_probs, targets)
picked = log_probs[torch.arange(4), targets]  # log p(true class), per image

print(log_probs.shape, targets.tolist())
print(f"NLLLoss {loss.item():.4f}")
print("= -mean(log p(true class)):", torch.allclose(loss, -picked.mean()))
# CrossEntropyLoss = log_softmax + NLLLoss, for models that return scores.
ce_loss = nn.CrossEntropyLoss()(log_probs, targets)
print(
    "CrossEntropyLoss on log-probabilities, same:",
    torch.allclose(ce_loss, loss),
)
# --8<-- [end:loss]


# --8<-- [start:augment]
def random_affine(batch, generator, shift=3, degrees=15, zoom=0.15):
    """Move each image up to `shift` pixels, turn it up to `degrees`, and
    scale it up to `zoom` (a fraction), each by its own random amount."""
    n, _, height, width = batch.shape

    def uniform(limit):  # n numbers in [-limit, limit)
        return (torch.rand(n, generator=generator) * 2 - 1) * limit

    angle = uniform(math.radians(degrees))
    scale = 1 + uniform(zoom)
    # affine_grid measures positions from -1 to 1 across the image.
    dx, dy = uniform(2 * shift / width), uniform(2 * shift / height)
    cos, sin = scale * angle.cos(), scale * angle.sin()
    theta = torch.stack(
        [torch.stack([cos, -sin, dx], 1), torch.stack([sin, cos, dy], 1)], 1
    )  # (n, 2, 3): one 2x3 transform per image, made on the CPU
    grid = F.affine_grid(
        theta.to(batch.device), list(batch.shape), align_corners=False
    )
    return F.grid_sample(batch, grid, align_corners=False)


generator = torch.Generator().manual_seed(0)
first = images[:1]  # the first digit, a 0: shape (1, 1, 28, 28)
moved = random_affine(first, generator)
again = random_affine(first, generator)

print(moved.shape, "new every call:", not torch.equal(moved, again))
pair = torch.cat([first, moved])
show(F.avg_pool2d(pair, (2, 1))[:, 0], ["original", "moved"], width=1)
# --8<-- [end:augment]


# --8<-- [start:evaluate]
def predict(model, batch):
    """The predicted class of each image, as a CPU tensor."""
    model.eval()  # inference behaviour for dropout and batch norm layers
    with torch.no_grad():  # no graph to record: faster, less memory
        return model(standardize(batch).to(device)).argmax(dim=1).cpu()


def accuracy(model, batch, targets):
    return (predict(model, batch) == targets).float().mean().item()


# --8<-- [end:evaluate]


# --8<-- [start:train]
def train(
    train_images,
    train_labels,
    eval_images,
    eval_labels,
    epochs=30,
    batch_size=64,
    lr=0.01,
    augment=True,
    seed=0,
    verbose=True,
    history=None,
):
    """Train a fresh Net; print the loss and the accuracy after each epoch,
    and append them to the list `history`, if one is given."""
    torch.manual_seed(seed)
    model = Net().to(device)  # made on the CPU after the seed, then moved
    generator = torch.Generator().manual_seed(seed)  # shuffling, augmenting
    loader = DataLoader(
        TensorDataset(train_images, train_labels),
        batch_size=batch_size,
        shuffle=True,  # a new order every epoch, drawn from `generator`
        generator=generator,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # Warm the learning rate up to `lr`, then anneal it to almost 0; Adam's
    # beta1 goes the other way, 0.95 to 0.85 and back to 0.95.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(loader)
    )
    loss_fn = nn.NLLLoss()  # Net returns log-probabilities

    for epoch in range(1, epochs + 1):
        model.train()  # training behaviour (predict() switches to eval)
        total = 0.0
        for batch, targets in loader:
            if augment:
                batch = random_affine(batch, generator)
            batch, targets = standardize(batch).to(device), targets.to(device)

            loss = loss_fn(model(batch), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()  # the schedule moves once per batch
            total += loss.item() * len(batch)

        if verbose or history is not None:
            epoch_loss = total / len(train_images)
            epoch_accuracy = accuracy(model, eval_images, eval_labels)
        if history is not None:
            history.append((epoch_loss, epoch_accuracy))
        if verbose:
            print(
                f"epoch {epoch:2d}  loss {epoch_loss:.4f}  "
                f"accuracy {epoch_accuracy:.4f}"
            )
    return model


# --8<-- [end:train]

# --8<-- [start:schedule]
stand_in = nn.Parameter(torch.zeros(1))  # the schedule needs no model
adam = torch.optim.Adam([stand_in], lr=0.01)
print("Adam alone:            betas", adam.param_groups[0]["betas"])
steps = 30 * 15  # train()'s 30 epochs of 15 batches
schedule = torch.optim.lr_scheduler.OneCycleLR(
    adam, max_lr=0.01, total_steps=steps
)
print("with OneCycleLR:       betas", adam.param_groups[0]["betas"])

for step in range(steps):
    if step in (0, 134, steps - 1):  # the start, the peak, the last step
        group = adam.param_groups[0]
        beta1 = group["betas"][0]
        print(f"step {step:3d}  lr {group['lr']:<6.2g}  beta1 {beta1:.2f}")
    adam.step()  # no gradient, nothing moves; without it, schedule.step()
    schedule.step()  # warns that it was called before adam.step()

plain = torch.optim.Adam([stand_in], lr=0.01)
torch.optim.lr_scheduler.OneCycleLR(
    plain, max_lr=0.01, total_steps=steps, cycle_momentum=False
)
print("cycle_momentum=False:  betas", plain.param_groups[0]["betas"])
# --8<-- [end:schedule]

# --8<-- [start:validate]
# Hold out the last 180 training images; the test half stays untouched.
n_fit = n_train - 180
fit = train_images[:n_fit], train_labels[:n_fit]
held_out = train_images[n_fit:], train_labels[n_fit:]
print(len(fit[0]), "to fit,", len(held_out[0]), "to validate")

for augment in [False, True]:
    candidate = train(*fit, *held_out, augment=augment, verbose=False)
    print(f"augment={augment!s:<5}  validation accuracy", end=" ")
    print(f"{accuracy(candidate, *held_out):.4f}")
# --8<-- [end:validate]

# --8<-- [start:run]
history = []  # train appends (loss, test accuracy) after each epoch
model = train(
    train_images, train_labels, test_images, test_labels, history=history
)
# --8<-- [end:run]

# --8<-- [start:curves]
epochs = range(1, len(history) + 1)
losses, accuracies = zip(*history)

fig, (top, bottom) = plt.subplots(
    2, 1, figsize=(5, 4.5), sharex=True, layout="constrained"
)
top.plot(epochs, losses, marker=".")
top.set_ylabel("training loss")
bottom.plot(epochs, accuracies, marker=".", label="CNN (Net)")
bottom.axhline(
    svc_accuracy, color="C3", linestyle="--", label=f"SVC {svc_accuracy:.3f}"
)
bottom.set_ylabel("test accuracy")
bottom.set_xlabel("epoch")
bottom.legend(loc="lower right")
fig.savefig("digits-curves.svg")  # next to the script; inline in a notebook
# --8<-- [end:curves]

# --8<-- [start:result]
predicted = predict(model, test_images)
cnn_accuracy = (predicted == test_labels).float().mean().item()

print(predicted.shape, f"{len(test_labels)} test images")
print(f"CNN (Net) test accuracy: {cnn_accuracy:.4f}")
print(f"SVC       test accuracy: {svc_accuracy:.4f}")
print(f"beats SVC ({svc_accuracy:.3f}):", cnn_accuracy > svc_accuracy)
# --8<-- [end:result]

# --8<-- [start:samples]
originals = digits.images[n_train:] / 16  # the 8x8 test images, in [0, 1]
pairs = list(zip(test_labels.tolist(), predicted.tolist()))

show(originals[:4], [f"true {t}, pred {p}" for t, p in pairs[:4]])
# --8<-- [end:samples]

# --8<-- [start:mistakes]
wrong = [i for i, (t, p) in enumerate(pairs) if t != p]
print(len(wrong), "mistakes out of", len(pairs))

for start in range(0, len(wrong), 4):
    row = wrong[start : start + 4]
    print()
    show(
        originals[row],
        [f"true {pairs[i][0]}, pred {pairs[i][1]}" for i in row],
    )
# --8<-- [end:mistakes]

# --8<-- [start:mistakes-plot]
columns = 5
rows = max(1, math.ceil(len(wrong) / columns))
fig, axes = plt.subplots(
    rows,
    columns,
    figsize=(5, 1.15 * rows + 0.4),
    squeeze=False,
    layout="constrained",
)
for ax in axes.flat:
    ax.set_axis_off()  # no ticks, no frame; empty cells stay blank
for ax, i in zip(axes.flat, wrong):
    ax.imshow(originals[i], cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"{pairs[i][0]} -> {pairs[i][1]}")
fig.suptitle("true -> predicted")
fig.savefig("digits-mistakes.svg")
# --8<-- [end:mistakes-plot]

# --8<-- [start:confusion]
confused = Counter(pairs[i] for i in wrong)
for (true, pred), count in confused.most_common():
    print(f"true {true} -> predicted {pred}: {count}")

svc_wrong = set((svc_predicted != y_test).nonzero()[0].tolist())
print(
    "SVC mistakes:",
    len(svc_wrong),
    " both wrong:",
    len(svc_wrong & set(wrong)),
)
# --8<-- [end:confusion]

# --8<-- [start:float-order]
print((0.1 + 0.2) + 0.3, 0.1 + (0.2 + 0.3))  # same numbers, other order
print("threads:", torch.get_num_threads())
# --8<-- [end:float-order]


# --8<-- [start:exercise-wide]
class WideNet(nn.Module):  # Net with 20 and 40 channels
    ...


# --8<-- [end:exercise-wide]


# --8<-- [start:solution-wide]
class WideNet(nn.Module):  # Net with 20 and 40 channels
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        self.conv2 = nn.Conv2d(20, 40, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(40 * 4 * 4, 10)  # 40 channels of 4x4 after pooling

    def forward(self, x):
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


# --8<-- [end:solution-wide]


# --8<-- [start:check-wide]
def check_wide(model_class):
    assert model_class.forward is not nn.Module.forward, "expected a forward"
    wide = model_class()
    out = wide(standardize(train_images[:2]))
    assert out.shape == (2, 10), f"expected shape (2, 10), got {out.shape}"
    assert torch.allclose(out.exp().sum(1), torch.ones(2)), (
        "expected log_softmax"
    )
    sizes = [sum(p.numel() for p in m.parameters()) for m in (wide, Net())]
    assert sizes[0] > 2 * sizes[1], f"expected over twice Net's size: {sizes}"
    print("right: 10 log-probabilities per image, from a wider network")


check_wide(WideNet)
# --8<-- [end:check-wide]


# --8<-- [start:exercise-per-digit]
def per_digit_accuracy(predicted, labels):
    """A tensor of 10 values: the share of images of each digit that
    `predicted` gets right."""
    ...


# --8<-- [end:exercise-per-digit]


# --8<-- [start:solution-per-digit]
def per_digit_accuracy(predicted, labels):
    """A tensor of 10 values: the share of images of each digit that
    `predicted` gets right."""
    right = (predicted == labels).float()
    return torch.stack([right[labels == d].mean() for d in range(10)])


# --8<-- [end:solution-per-digit]


# --8<-- [start:check-per-digit]
def check_per_digit(per_digit_accuracy):
    labels = torch.arange(10).repeat(2)  # each digit twice
    predicted = labels.clone()
    predicted[:3] = 9  # the first 0, 1 and 2 predicted wrong
    got = per_digit_accuracy(predicted, labels)
    assert isinstance(got, torch.Tensor), f"expected a tensor, got {type(got)}"
    want = torch.tensor([0.5] * 3 + [1.0] * 7)
    assert got.shape == (10,), f"expected shape (10,), got {tuple(got.shape)}"
    assert torch.allclose(got, want), f"expected {want}, got {got}"
    print("right: one accuracy per digit")


check_per_digit(per_digit_accuracy)
# --8<-- [end:check-per-digit]
