# --8<-- [start:setup]
import warnings

import torch
import torch.nn.functional as F
from torch import nn

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
# --8<-- [end:setup]

# --8<-- [start:linear]
torch.manual_seed(0)
layer = nn.Linear(4, 3).to(device)  # 4 numbers in, 3 numbers out
batch = torch.rand(2, 4).to(device)  # a batch of 2 samples, 4 features each

out = layer(batch)  # call the layer like a function
print(layer)
print(layer.weight.shape, layer.bias.shape)
print(batch.shape, "->", out.shape)
print(torch.allclose(out, batch @ layer.weight.T + layer.bias))
# --8<-- [end:linear]


# --8<-- [start:tiny]
class TinyModel(nn.Module):
    def __init__(self):
        super().__init__()  # set up nn.Module's bookkeeping first
        # Layers assigned as attributes are registered as submodules.
        self.hidden = nn.Linear(4, 8)
        self.output = nn.Linear(8, 3)

    def forward(self, x):
        # What the model computes: the layers, in order.
        x = F.relu(self.hidden(x))
        return self.output(x)


torch.manual_seed(0)
tiny = TinyModel().to(device)  # moves every parameter to the device

print(tiny)
print(batch.shape, "->", tiny(batch).shape)  # call the model, not .forward
# --8<-- [end:tiny]

# --8<-- [start:named-parameters]
for name, param in tiny.named_parameters():
    print(f"{name:<14} {tuple(param.shape)!s:<8} {param.numel():>3}")

total = sum(p.numel() for p in tiny.parameters())
print("total:", total)
print("all trainable:", all(p.requires_grad for p in tiny.parameters()))
print(
    "all on the device:",
    all(p.device.type == device for p in tiny.parameters()),
)
# --8<-- [end:named-parameters]

# --8<-- [start:sequential]
torch.manual_seed(0)
seq = nn.Sequential(  # the layers run in the order given
    nn.Linear(4, 8),
    nn.ReLU(),  # ReLU as a layer, so that it can go in the list
    nn.Linear(8, 3),
).to(device)

print(seq)
print([name for name, _ in seq.named_parameters()])
print("total:", sum(p.numel() for p in seq.parameters()))
print(seq[0])  # index a Sequential to reach one layer
print(batch.shape, "->", seq(batch).shape)
print("same output as tiny:", torch.allclose(seq(batch), tiny(batch)))
# --8<-- [end:sequential]


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

    # --8<-- [end:net]


# --8<-- [start:model]
torch.manual_seed(0)
model = Net().to(device)
images = torch.randn(4, 1, 28, 28).to(device)  # 4 one-channel 28x28 images

print(model)
# --8<-- [end:model]


# --8<-- [start:trace]
def trace(model, x):
    """Run the steps of Net.forward one at a time, printing each shape."""
    steps = [
        ("conv1", model.conv1),
        ("max-pool", model.mp),
        ("relu", F.relu),
        ("conv2", model.conv2),
        ("max-pool", model.mp),
        ("relu", F.relu),
        ("flatten(1)", lambda t: t.flatten(1)),
        ("fc", model.fc),
        ("log_softmax", lambda t: F.log_softmax(t, dim=1)),
    ]
    print(f"{'input':<12} {tuple(x.shape)}")
    for name, step in steps:
        if name == "flatten(1)":
            channels, height, width = x.shape[1:]
            print(
                f"{'':<12} {channels}*{height}*{width} = "
                f"{channels * height * width} values per image"
            )
        x = step(x)
        print(f"{name:<12} {tuple(x.shape)}")
    return x


traced = trace(model, images)
print("same as model(images):", torch.allclose(traced, model(images)))
print("fc expects:", model.fc.in_features)
# --8<-- [end:trace]

# --8<-- [start:count]
for name, param in model.named_parameters():
    sizes = "*".join(str(n) for n in param.shape)
    print(
        f"{name:<13} {tuple(param.shape)!s:<15} {sizes:>10} "
        f"= {param.numel():>4}"
    )

print("total:", sum(p.numel() for p in model.parameters()))
print("max-pool has none:", len(list(model.mp.parameters())) == 0)
# --8<-- [end:count]

# --8<-- [start:forward]
log_probs = model(images)
probs = log_probs.exp()  # undo the log: probabilities

print(log_probs.shape)  # one row of 10 scores per image
print([round(s, 4) for s in probs.sum(dim=1).tolist()])  # each row sums to 1
print("all log-probabilities <= 0:", bool((log_probs <= 0).all()))
# --8<-- [end:forward]

# --8<-- [start:logits]
torch.manual_seed(0)  # the seed Net was built with: the same weights
logit_net = nn.Sequential(  # Net's layers, in Net's order
    nn.Conv2d(1, 10, kernel_size=5),
    nn.MaxPool2d(2),
    nn.ReLU(),
    nn.Conv2d(10, 20, kernel_size=5),
    nn.MaxPool2d(2),
    nn.ReLU(),
    nn.Flatten(),  # x.flatten(1), as a layer
    nn.Linear(320, 10),  # no log_softmax: the model returns logits
).to(device)
labels = torch.tensor([3, 0, 7, 1]).to(device)  # the true class of each image

logits = logit_net(images)
pairs = list(zip(model.parameters(), logit_net.parameters()))
print(logit_net[6])
print(logits.shape)
print("same weights:", all(torch.equal(a, b) for a, b in pairs))
print(
    "log_softmax(logits) = model(images):",
    torch.allclose(F.log_softmax(logits, dim=1), log_probs),
)

nll = nn.NLLLoss()(model(images), labels)  # log-probabilities in
ce = nn.CrossEntropyLoss()(logits, labels)  # logits in
print(f"NLLLoss          {nll.item():.3f}")
print(f"CrossEntropyLoss {ce.item():.3f}")
print("same loss:", torch.allclose(nll, ce))

nll.backward()
ce.backward()
print("same gradients:", all(torch.allclose(a.grad, b.grad) for a, b in pairs))
# --8<-- [end:logits]

# --8<-- [start:loss-mismatch]
ce_loss = nn.CrossEntropyLoss()
nll_loss = nn.NLLLoss()
probs_out = F.softmax(logits, dim=1)  # what a model ending in softmax gives
perfect = F.one_hot(labels, 10).float()  # probability 1 for the true class

print(f"CrossEntropyLoss(log-probabilities) {ce_loss(log_probs, labels):.3f}")
print(f"CrossEntropyLoss(probabilities)     {ce_loss(probs_out, labels):.3f}")
print(f"  ...of a perfect model             {ce_loss(perfect, labels):.3f}")
print(f"NLLLoss(logits)                     {nll_loss(logits, labels):.3f}")
# --8<-- [end:loss-mismatch]

# --8<-- [start:view-flatten]
# The feature maps just before fc, computed with Net's own layers.
features = F.relu(model.mp(model.conv2(F.relu(model.mp(model.conv1(images))))))
in_size = features.size(0)  # the batch size, as older code read it

viewed = features.view(in_size, -1)  # -1: "work this size out for me"
flat = features.flatten(1)  # keep dim 0, merge all the others

print(features.shape)
print(viewed.shape, flat.shape)
print("equal:", torch.equal(viewed, flat))
print(features.flatten().shape)  # no argument: the batch is merged too
# --8<-- [end:view-flatten]

# --8<-- [start:view-error]
swapped = features.transpose(2, 3)  # same values, memory no longer in order

try:
    swapped.view(in_size, -1)
except RuntimeError as error:
    print("RuntimeError:", error)

print(swapped.flatten(1).shape)  # flatten copies when it has to
# --8<-- [end:view-error]

# --8<-- [start:implicit-dim]
scores = model.fc(flat)  # the 10 scores per image, before log_softmax

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record the warning, do not raise it
    old_style = F.log_softmax(scores)  # the old call: no dim

print(f"{caught[0].category.__name__}: {caught[0].message}")
print("same result as dim=1:", torch.allclose(old_style, log_probs))
# --8<-- [end:implicit-dim]

# --8<-- [start:wrong-size]
big_images = torch.randn(4, 1, 32, 32).to(device)  # 32x32, not 28x28

try:
    trace(model, big_images)
except RuntimeError as error:
    print("RuntimeError:", error)
# --8<-- [end:wrong-size]


# --8<-- [start:exercise-color]
class ColorNet(nn.Module):
    """Net for 3x32x32 color images: 10 log-probabilities out."""

    def __init__(self):
        super().__init__()
        self.conv1 = ...  # as Net's, for images with 3 channels
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = ...  # as Net's, for the values a 32x32 image leaves

    def forward(self, x):
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.flatten(1)
        x = self.fc(x)
        return F.log_softmax(x, dim=1)

    # --8<-- [end:exercise-color]


# --8<-- [start:solution-color]
class ColorNet(nn.Module):
    """Net for 3x32x32 color images: 10 log-probabilities out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=5)  # 3 channels in
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(500, 10)  # 20*5*5 values per image

    def forward(self, x):
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.flatten(1)
        x = self.fc(x)
        return F.log_softmax(x, dim=1)

    # --8<-- [end:solution-color]


# --8<-- [start:check-color]
def check_color_net(ColorNet):
    torch.manual_seed(0)
    net = ColorNet().to(device)
    color_images = torch.randn(4, 3, 32, 32).to(device)  # 4 color images
    for name, kind in (("conv1", nn.Conv2d), ("fc", nn.Linear)):
        layer = getattr(net, name)
        assert isinstance(layer, kind), (
            f"self.{name} is {layer!r}, not a {kind.__name__}"
        )
    assert net.conv1.in_channels == 3, (
        f"conv1 takes {net.conv1.in_channels} channels; the images have 3"
    )
    try:
        out = net(color_images)
    except RuntimeError as error:
        raise AssertionError(f"(4, 3, 32, 32) images fail: {error}") from None
    assert out.shape == (4, 10), f"expected (4, 10), got {tuple(out.shape)}"
    print(
        f"right: (4, 3, 32, 32) in, {net.fc.in_features} values per image "
        f"into fc, {tuple(out.shape)} out"
    )


check_color_net(ColorNet)
# --8<-- [end:check-color]


# --8<-- [start:exercise-count]
def count_trainable(module):
    """The number of values in module's parameters that require grad."""
    ...


# --8<-- [end:exercise-count]


# --8<-- [start:solution-count]
def count_trainable(module):
    """The number of values in module's parameters that require grad."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --8<-- [end:solution-count]


# --8<-- [start:check-count]
def check_count_trainable(count_trainable):
    frozen = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    frozen[0].requires_grad_(False)  # 32 weights and 8 biases frozen
    cases = [
        ("tiny", tiny, 67),
        ("model", model, 8490),
        ("nn.ReLU()", nn.ReLU(), 0),
        ("a model with a frozen layer", frozen, 27),
    ]
    for name, module, want in cases:
        got = count_trainable(module)
        assert got == want, f"{name}: expected {want}, got {got}"
    print("right: 67 in tiny, 8490 in Net, 0 in ReLU, 27 with a frozen layer")


check_count_trainable(count_trainable)
# --8<-- [end:check-count]


# --8<-- [start:exercise-predict]
def predict(model, images):
    """The most probable class of each image, as a tensor of indices."""
    ...


# --8<-- [end:exercise-predict]


# --8<-- [start:solution-predict]
def predict(model, images):
    """The most probable class of each image, as a tensor of indices."""
    with torch.no_grad():  # a prediction needs no gradients
        scores = model(images)  # logits or log-probabilities: (batch, 10)
    return scores.argmax(dim=1)  # the largest score in each row


# --8<-- [end:solution-predict]


# --8<-- [start:check-predict]
def check_predict(predict):
    grad_modes = []  # torch.is_grad_enabled() in each forward pass

    def record(module, inputs, output):  # a forward hook: runs after forward
        grad_modes.append(torch.is_grad_enabled())

    hooks = [net.register_forward_hook(record) for net in (model, logit_net)]
    try:
        from_log_probs = predict(model, images)  # Net: log-probabilities
        from_logits = predict(logit_net, images)  # logit_net: logits
    finally:
        for hook in hooks:
            hook.remove()  # the models as they were
    for got in (from_log_probs, from_logits):
        assert isinstance(got, torch.Tensor), (
            f"expected a tensor, got {type(got)}"
        )
        assert got.shape == (4,), (
            f"expected one class per image, shape (4,), got {tuple(got.shape)}"
        )
        assert got.dtype == torch.int64, (
            f"expected class indices (int64), got {got.dtype}"
        )
    assert grad_modes, (
        "no forward hook ran: call model(images), not model.forward(images)"
    )
    assert not any(grad_modes), (
        "expected the scores computed under torch.no_grad()"
    )
    want = model(images).argmax(dim=1)
    assert torch.equal(from_log_probs, want), (
        "Net: expected the class with the largest score, for each image"
    )
    assert torch.equal(from_logits, want), (
        "logit_net: expected the same classes as from Net"
    )
    print("right: the same classes from both models, scored under no_grad")


check_predict(predict)
# --8<-- [end:check-predict]
