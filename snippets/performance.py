# --8<-- [start:setup]
import json
import os
import statistics
import time
import warnings

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils.benchmark import Timer

if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# One CPU thread, as on the machine that measured this page: a timing
# then does not depend on what the other cores are doing.
torch.set_num_threads(1)
# --8<-- [end:setup]

# --8<-- [start:data]
digits = load_digits()  # ships inside scikit-learn: nothing to download
small = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
images = F.interpolate(small / 16, size=(28, 28), mode="bilinear")
labels = torch.tensor(digits.target)

# The first half trains, the second half tests: on the device for good.
n_train = len(images) // 2
# Standardized with the training half's mean and std only: the test half
# stands for images not seen yet, and must not shape the training.
mean, std = images[:n_train].mean(), images[:n_train].std()
images = (images - mean) / std  # the training half: mean 0, std 1
train_x, train_y = images[:n_train].to(device), labels[:n_train].to(device)
test_x, test_y = images[n_train:].to(device), labels[n_train:].to(device)
batch, targets = train_x[:64], train_y[:64]  # one batch of 64 images
print(train_x.shape, test_x.shape, batch.shape)
# --8<-- [end:data]


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
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


def train_step(model, optimizer, inputs, targets, set_to_none=True):
    """One step of training; returns the loss, still on the device."""
    loss = F.nll_loss(model(inputs), targets)
    optimizer.zero_grad(set_to_none=set_to_none)
    loss.backward()
    optimizer.step()
    return loss.detach()


torch.manual_seed(0)
model = Net().to(device)
# For timing: with a learning rate of 0, a step does all of its work but
# changes no weight, so however long a timing runs, the model stays as is.
optimizer = torch.optim.Adam(model.parameters(), lr=0)
print(f"{sum(p.numel() for p in model.parameters()):,} weights")
# --8<-- [end:net]

# --8<-- [start:first-call]
fresh = Net().to(device)
for call in range(1, 4):
    start = time.perf_counter()
    fresh(batch)
    print(f"call {call}: {1000 * (time.perf_counter() - start):.2f} ms")
# --8<-- [end:first-call]

# --8<-- [start:timer]
# Timer uses one thread (num_threads=1) unless told otherwise, whatever
# torch.set_num_threads says; its report says how many it used.
timer = Timer("model(batch)", globals={"model": model, "batch": batch})
print(timer.blocked_autorange(min_run_time=1))
# --8<-- [end:timer]


# --8<-- [start:measure]
def measure(*stmts, rounds=5, **names):
    """The median time of each statement, in ms. The statements are
    strings of code that use `names`; they are timed in turns, 0.1 s at a
    time, so that a slow moment of the machine hits them all alike."""
    timers = [Timer(stmt, globals=names) for stmt in stmts]
    times = [[] for _ in stmts]
    for _ in range(rounds):
        for timer, runs in zip(timers, times):
            runs.extend(timer.blocked_autorange(min_run_time=0.1).times)
    return [1000 * statistics.median(runs) for runs in times]


forward_ms, step_ms = measure(
    "model(batch)",
    "train_step(model, optimizer, batch, targets)",
    train_step=train_step,
    model=model,
    optimizer=optimizer,
    batch=batch,
    targets=targets,
)
print(f"forward:    {forward_ms:.2f} ms")
print(f"train step: {step_ms:.2f} ms")
print(f"the forward's share of the step: {forward_ms / step_ms:.0%}")
# --8<-- [end:measure]

# --8<-- [start:profile]
# Kineto, the profiler's engine, logs "profiler_start" and "profiler_stop"
# to stderr; level 6 is above theirs. It can hide Kineto's other messages
# too: leave it unset when the profiler itself misbehaves.
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

activities = [ProfilerActivity.CPU]
if device == "cuda":
    activities.append(ProfilerActivity.CUDA)  # the GPU's kernels too

with profile(activities=activities) as prof:
    for _ in range(5):
        with record_function("forward"):
            loss = F.nll_loss(model(batch), targets)
        with record_function("backward"):
            optimizer.zero_grad()
            loss.backward()
        with record_function("optimizer step"):
            optimizer.step()

table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8)
print(table)
# --8<-- [end:profile]

# --8<-- [start:regions]
averages = {event.key: event for event in prof.key_averages()}
regions = ["forward", "backward", "optimizer step"]
total_us = sum(averages[name].cpu_time_total for name in regions)
for name in regions:
    event = averages[name]
    share = event.cpu_time_total / total_us
    print(f"{name:<15}{event.count} calls  {share:4.0%} of the CPU time")
# --8<-- [end:regions]

# --8<-- [start:trace]
prof.export_chrome_trace("trace.json")  # open it in ui.perfetto.dev

with open("trace.json") as f:
    events = json.load(f)["traceEvents"]
names = {event.get("name") for event in events}
print("more than 100 events:", len(events) > 100)
print("the three regions are in it:", set(regions) <= names)
# --8<-- [end:trace]

# --8<-- [start:compile]
# Under warnings-as-errors, torch.compile stops on a DeprecationWarning
# that PyTorch raises about its own code: ignore that one warning only.
warnings.filterwarnings(
    "ignore",
    message=r"`torch\.jit\.script_method` is (deprecated|not supported)",
    category=DeprecationWarning,
    module=r"torch\.jit\._script",
)

compiled = torch.compile(model)  # nothing is compiled yet

start = time.perf_counter()
train_step(compiled, optimizer, batch, targets)  # compiles, then runs
compile_s = time.perf_counter() - start

eager, fast, eager_step, fast_step = measure(
    "model(batch)",
    "compiled(batch)",
    "train_step(model, optimizer, batch, targets)",
    "train_step(compiled, optimizer, batch, targets)",
    **globals(),  # every global name so far, as keyword arguments
)
print(f"first step (compiling): {compile_s:.1f} s")
print(f"forward:    eager {eager:.2f} ms, compiled {fast:.2f} ms")
print(f"train step: eager {eager_step:.2f} ms, compiled {fast_step:.2f} ms")

saved_ms = eager - fast  # per forward call
if saved_ms > 0:
    calls = 1000 * compile_s / saved_ms
    print(f"compiling pays for itself after {calls:.0f} forward calls")
else:
    print("the compiled forward is not faster: compiling never pays")
# --8<-- [end:compile]

# --8<-- [start:compile-equal]
difference = (compiled(batch) - model(batch)).abs().max().item()
print("compiled and eager agree within 1e-4:", difference < 1e-4)
same = torch.equal(compiled(batch), compiled(batch))
print("compiled repeats itself exactly:", same)
# --8<-- [end:compile-equal]

# --8<-- [start:compiled-module]
print(type(compiled).__name__, "around model:", compiled._orig_mod is model)
print("the same weights:", compiled.fc.weight is model.fc.weight)
print(list(compiled.state_dict())[:2])
# --8<-- [end:compiled-module]

# --8<-- [start:recompile]
compiles = []  # what each graph was compiled for, in order


def counting_backend(graph_module, example_inputs):
    """A torch.compile backend that notes each graph it is given, then
    runs it as it is, uncompiled."""
    dynamic = any(isinstance(x, torch.SymInt) for x in example_inputs)
    compiles.append("any size" if dynamic else "this size only")
    return graph_module.forward


def add_one(x):
    return x + 1


counted = torch.compile(add_one, backend=counting_backend)
for size in [3, 4, 5, 6, 7]:
    counted(torch.ones(size))
    print(f"size {size}: graphs {len(compiles)}, the last for {compiles[-1]}")
counted(torch.ones(7, dtype=torch.float64))
print("float64: graphs", len(compiles))
counted(torch.ones(7, requires_grad=True))
print("requires_grad: graphs", len(compiles))
with torch.no_grad():
    counted(torch.ones(7, requires_grad=True))
print("under no_grad: graphs", len(compiles))
print("most graphs per function:", torch._dynamo.config.recompile_limit)
# --8<-- [end:recompile]


# --8<-- [start:tiny]
torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))
mlp = mlp.to(device)
pixels = small[:64].flatten(1).to(device)  # 64 images, 64 pixels each
compiled_mlp = torch.compile(mlp)


def no_grad_call(net):
    with torch.no_grad():
        return net(pixels)


compiled_mlp(pixels)  # compile now, not while timing
no_grad_call(compiled_mlp)  # another grad mode: a second graph

tiny_ms = measure(
    "mlp(pixels)",
    "compiled_mlp(pixels)",
    "no_grad_call(mlp)",
    "no_grad_call(compiled_mlp)",
    **globals(),
)
us = [round(1000 * ms) for ms in tiny_ms]  # in microseconds
print(f"with grad: eager {us[0]} us, compiled {us[1]} us")
print(f"no_grad:   eager {us[2]} us, compiled {us[3]} us")
# --8<-- [end:tiny]

# --8<-- [start:tiny-guards]
with profile(activities=activities) as tiny_prof:
    for _ in range(100):
        compiled_mlp(pixels)
tiny_events = tiny_prof.key_averages()
by_name = {event.key: event for event in tiny_events}
guards = by_name["TorchDynamo Cache Lookup"]  # the guards' region
share = guards.cpu_time_total / tiny_events.self_cpu_time_total
print(f"guards: {share:.0%} of the CPU time of 100 compiled calls")
# --8<-- [end:tiny-guards]


# --8<-- [start:graph-break]
def scaled(x):
    x = torch.relu(x) * 2
    if x.sum() > 100:  # a Python `if` on a tensor's value
        x = x / 2
    return x.cos()


explanation = torch._dynamo.explain(scaled)(batch)
print("graphs:", explanation.graph_count)
print("graph breaks:", explanation.graph_break_count)
print("reason:", explanation.break_reasons[0].reason)
# --8<-- [end:graph-break]


# --8<-- [start:graph-break-fix]
def scaled_where(x):
    x = torch.relu(x) * 2
    x = torch.where(x.sum() > 100, x / 2, x)  # both branches, one graph
    return x.cos()


explanation = torch._dynamo.explain(scaled_where)(batch)
print("graphs:", explanation.graph_count)
print("graph breaks:", explanation.graph_break_count)
print("same result:", torch.equal(scaled_where(batch), scaled(batch)))
# --8<-- [end:graph-break-fix]


# --8<-- [start:no-compiler]
def double(x):
    return x * 2


# Point inductor at a C++ compiler that does not exist, to see the error a
# CPU machine without one gives at the first call.
with torch._inductor.config.patch({"cpp.cxx": (None, "no-such-c++")}):
    try:
        torch.compile(double)(torch.ones(3))  # on the CPU
    except torch._inductor.exc.InductorError as error:
        print(type(error).__name__ + ":", str(error).splitlines()[0])
# --8<-- [end:no-compiler]

# --8<-- [start:formats]
for dtype in [torch.float32, torch.float16, torch.bfloat16]:
    info = torch.finfo(dtype)
    print(
        f"{str(dtype):<15} {info.bits // 8} bytes  step at 1: {info.eps:.0e}"
        f"  largest {info.max:.4e}  smallest {info.tiny:.4e}"
    )
print("3.4e38 in bfloat16:", torch.tensor(3.4e38).bfloat16().item())
# --8<-- [end:formats]

# --8<-- [start:amp-dtype]
# float16 on a CUDA GPU, bfloat16 anywhere else.
amp_dtype = torch.float16 if device == "cuda" else torch.bfloat16

features = torch.randn(64, 320, device=device)
with torch.autocast(device, dtype=amp_dtype):
    scores = model.fc(features)  # a Linear layer: runs in amp_dtype
print("inputs:", features.dtype)
print("scores in amp_dtype:", scores.dtype == amp_dtype)
print("weights:", model.fc.weight.dtype)
# --8<-- [end:amp-dtype]


# --8<-- [start:amp-train]
def amp_step(model, optimizer, scaler, inputs, targets):
    """train_step, with the forward under autocast and a gradient scaler."""
    with torch.autocast(device, dtype=amp_dtype):
        loss = F.nll_loss(model(inputs), targets)
    optimizer.zero_grad()
    scaler.scale(loss).backward()  # the loss times a large factor
    scaler.step(optimizer)  # unscales the gradients, then steps
    scaler.update()  # adapts the factor
    return loss.detach()


def train(autocast, epochs=10):
    """Train a fresh Net on the training half; return its mean loss per
    epoch and its accuracy on the test half."""
    torch.manual_seed(0)
    model = Net().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    # Scaling keeps small float16 gradients from rounding to 0; bfloat16
    # reaches as small as float32 and needs none (disabled, it does nothing).
    scaler = torch.amp.GradScaler(device, enabled=amp_dtype == torch.float16)
    order = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(epochs):
        total = torch.zeros((), device=device)
        for index in torch.randperm(n_train, generator=order).split(64):
            inputs, targets = train_x[index], train_y[index]
            if autocast:
                loss = amp_step(model, optimizer, scaler, inputs, targets)
            else:
                loss = train_step(model, optimizer, inputs, targets)
            total += loss * len(index)
        losses.append((total / n_train).item())
    with torch.inference_mode():
        predicted = model(test_x).argmax(dim=1)
    return losses, (predicted == test_y).float().mean().item()


full, full_accuracy = train(autocast=False)
mixed, mixed_accuracy = train(autocast=True)
print("epoch  float32  autocast")
for epoch, (a, b) in enumerate(zip(full, mixed), 1):
    print(f"{epoch:5}  {a:7.3f}  {b:8.3f}")
print(f"test accuracy: {full_accuracy:.3f}  {mixed_accuracy:.3f}")
# --8<-- [end:amp-train]

# --8<-- [start:zero-grad]
train_step(model, optimizer, batch, targets)
optimizer.zero_grad()  # set_to_none=True, the default
print("after zero_grad():", model.fc.weight.grad)  # no tensor at all
train_step(model, optimizer, batch, targets)
optimizer.zero_grad(set_to_none=False)  # the old behaviour
print("set_to_none=False:", model.fc.weight.grad.abs().sum().item())
# --8<-- [end:zero-grad]


# --8<-- [start:inference-mode]
def forward_no_grad():
    with torch.no_grad():
        return model(batch)


def forward_inference_mode():
    with torch.inference_mode():
        return model(batch)


log_probs = forward_inference_mode()
print("an inference tensor:", log_probs.is_inference())
try:
    (model.fc.bias * log_probs).sum().backward()  # autograd would save it
except RuntimeError as error:
    print("RuntimeError:", str(error).split(". ")[0])
# --8<-- [end:inference-mode]

# --8<-- [start:channels-last]
model_cl = Net().to(device, memory_format=torch.channels_last)
model_cl.load_state_dict(model.state_dict())  # the same weights
optimizer_cl = torch.optim.Adam(model_cl.parameters(), lr=0)  # as optimizer
batch_cl = batch.to(memory_format=torch.channels_last)  # the same values

weight, weight_cl = model.conv2.weight, model_cl.conv2.weight
print("same shape:", weight_cl.shape == weight.shape)
print("strides:", weight.stride(), "->", weight_cl.stride())
same = torch.allclose(model_cl(batch_cl), model(batch), atol=1e-5)
print("same outputs within 1e-5:", same)
# --8<-- [end:channels-last]


# --8<-- [start:item]
def epoch(item_every_step):
    """One epoch over the training half; returns the mean loss."""
    total = 0.0 if item_every_step else torch.zeros((), device=device)
    for index in torch.arange(n_train).split(64):
        loss = train_step(model, optimizer, train_x[index], train_y[index])
        if item_every_step:
            total += loss.item() * len(index)  # the CPU waits for the loss
        else:
            total += loss * len(index)  # stays on the device: no wait
    return float(total) / n_train


same = abs(epoch(True) - epoch(False)) < 1e-4
print("the same mean loss both ways:", same)
# --8<-- [end:item]

# --8<-- [start:habits-time]
times = measure(
    "train_step(model, optimizer, batch, targets, set_to_none=False)",
    "train_step(model, optimizer, batch, targets)",
    "forward_no_grad()",
    "forward_inference_mode()",
    "model(batch)",
    "model_cl(batch_cl)",
    "epoch(True)",
    "epoch(False)",
    **globals(),
)
habits = ["set_to_none", "inference_mode", "channels_last", "one .item()"]
print("habit           before      after")
for habit, before, after in zip(habits, times[::2], times[1::2]):
    print(
        f"{habit:<15}{before:6.2f} ms  {after:6.2f} ms  {before / after:4.2f}x"
    )
# --8<-- [end:habits-time]

# --8<-- [start:summary]
# amp_step's scaler, as in train: enabled for float16 only.
scaler = torch.amp.GradScaler(device, enabled=amp_dtype == torch.float16)
steps = {
    "eager": "train_step(model, optimizer, batch, targets)",
    "compiled": "train_step(compiled, optimizer, batch, targets)",
    "channels_last": "train_step(model_cl, optimizer_cl, batch_cl, targets)",
    "autocast": "amp_step(model, optimizer, scaler, batch, targets)",
}
step_ms = dict(zip(steps, measure(*steps.values(), **globals())))
for name, ms in step_ms.items():
    print(f"{name:<14}{ms:5.2f} ms  {step_ms['eager'] / ms:4.2f}x")
# --8<-- [end:summary]

# --8<-- [start:plot]
fig, ax = plt.subplots(figsize=(5, 2.4), layout="constrained")
bars = ax.barh(list(step_ms), list(step_ms.values()))
ax.bar_label(bars, fmt="%.2f ms", padding=3)  # the values, on the bars
ax.invert_yaxis()  # eager on top, in the order measured
ax.set_xlim(0, 1.3 * max(step_ms.values()))  # room for the labels
ax.set_xticks([])
ax.spines[["top", "right", "bottom"]].set_visible(False)
ax.set_xlabel("median train step, batch of 64 (ms)")
# Text as text in the SVG, not as outlines: its numbers stay plain text.
with plt.rc_context({"svg.fonttype": "none"}):
    fig.savefig("performance-step-times.svg")
# --8<-- [end:plot]

# --8<-- [start:old]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")  # record warnings instead of raising
    torch.cuda.amp.autocast(enabled=False)  # disabled: runs on any machine
    torch.cuda.amp.GradScaler(enabled=False)
    torch.jit.script(double)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")
# --8<-- [end:old]


# --8<-- [start:exercise-predict]
def predict(model, images):
    """The predicted class of each image, computed in inference mode."""
    ...


# --8<-- [end:exercise-predict]


# --8<-- [start:solution-predict]
def predict(model, images):
    """The predicted class of each image, computed in inference mode."""
    with torch.inference_mode():
        return model(images).argmax(dim=1)


# --8<-- [end:solution-predict]


# --8<-- [start:check-predict]
def check_predict(predict):
    predicted = predict(model, test_x[:100])
    assert isinstance(predicted, torch.Tensor), f"got {predicted!r}"
    assert predicted.shape == (100,), f"one class per image: {predicted.shape}"
    assert predicted.is_inference(), "compute it under torch.inference_mode()"
    with torch.no_grad():
        expected = model(test_x[:100]).argmax(dim=1)
    assert torch.equal(predicted, expected), "not the classes model predicts"
    print("right: 100 classes, computed in inference mode")


check_predict(predict)
# --8<-- [end:check-predict]

# --8<-- [start:exercise-region]
with profile(activities=activities) as my_prof:
    ...  # one train_step of model, in a region named "my step"
# --8<-- [end:exercise-region]

# --8<-- [start:solution-region]
with (
    profile(activities=activities) as my_prof,
    record_function("my step"),  # a region inside the profile
):
    train_step(model, optimizer, batch, targets)
# --8<-- [end:solution-region]


# --8<-- [start:check-region]
def check_region(prof):
    events = {event.key: event for event in prof.key_averages()}
    assert "my step" in events, "no region named 'my step' in the profile"
    assert events["my step"].count == 1, "run the region once"
    ops = [key for key in events if key.startswith("aten::")]
    assert any("backward" in op for op in ops), "no backward pass profiled"
    assert any("Adam" in key for key in events), "no optimizer step profiled"
    print("right: one 'my step' region, with a whole train step in it")


check_region(my_prof)
# --8<-- [end:check-region]

# --8<-- [start:exercise-channels-last]
model_fast = ...  # a Net with model's weights, in channels_last
batch_fast = ...  # batch, in channels_last
# --8<-- [end:exercise-channels-last]

# --8<-- [start:solution-channels-last]
model_fast = Net().to(device, memory_format=torch.channels_last)
model_fast.load_state_dict(model.state_dict())
batch_fast = batch.to(memory_format=torch.channels_last)
# --8<-- [end:solution-channels-last]


# --8<-- [start:check-channels-last]
def check_channels_last(model_fast, batch_fast):
    last = torch.channels_last
    assert isinstance(model_fast, Net), f"expected a Net: {model_fast!r}"
    assert model_fast is not model, "make a new Net; leave model as it is"
    for name, p in model_fast.named_parameters():
        if p.dim() == 4:  # a convolution's weight
            ok = p.is_contiguous(memory_format=last)
            assert ok, f"{name}: not channels_last"
    ok = batch_fast.is_contiguous(memory_format=last)
    assert ok, "batch_fast: not channels_last"
    same = torch.allclose(model_fast(batch_fast), model(batch), atol=1e-5)
    assert same, "the outputs differ from model's: copy its weights"
    print("right: the same network and batch, in channels_last")


check_channels_last(model_fast, batch_fast)
# --8<-- [end:check-channels-last]
