# --8<-- [start:version]
import inspect  # Python's own module for looking at functions; used below

import torch

print(
    torch.__version__
)  # the installed release; "+cpu" marks a CPU-only build
print(
    torch.cuda.is_available()
)  # True only when this build can use a GPU on this machine
# --8<-- [end:version]

# --8<-- [start:gpu-name]
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))  # the name of GPU number 0
else:
    print("No GPU that torch.cuda can use")
# --8<-- [end:gpu-name]

# --8<-- [start:device]
# The best device this machine has: an NVIDIA GPU (or an AMD GPU, with a
# ROCm build), an Apple-silicon GPU, or the CPU.
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
print(f"Using {device} device")
# --8<-- [end:device]

# --8<-- [start:accelerator-default]
# check_available defaults to False: no look at the machine by default.
print(inspect.signature(torch.accelerator.current_accelerator))
# --8<-- [end:accelerator-default]

# --8<-- [start:accelerator]
print(torch.accelerator.current_accelerator())  # what torch was built for
print(torch.accelerator.is_available())  # and whether it is usable here

# check_available=True: the accelerator only if it is usable, else None.
accelerator = torch.accelerator.current_accelerator(check_available=True)
print((accelerator.type if accelerator is not None else "cpu") == device)
# --8<-- [end:accelerator]

# --8<-- [start:use]
# Create data on the device, compute there, and bring the result back
# as a plain Python number.
x = torch.tensor([1.0, 2.0, 3.0], device=device)
total = (x * 2).sum()
print(total.item())
print(x.device.type == device)
# --8<-- [end:use]

# --8<-- [start:exercise-item]
largest = ...  # the largest value of x, as a plain Python number
# --8<-- [end:exercise-item]

# --8<-- [start:solution-item]
largest = x.max().item()
# --8<-- [end:solution-item]


# --8<-- [start:check-item]
def check_item(largest):
    assert not isinstance(largest, torch.Tensor), (
        "expected a Python number, got a tensor: call .item() on it"
    )
    assert isinstance(largest, float), (
        f"expected a float, got {type(largest).__name__}"
    )
    assert largest == 3.0, f"expected 3.0, got {largest}"
    print("right: 3.0, a plain Python float")


check_item(largest)
# --8<-- [end:check-item]


# --8<-- [start:exercise-version]
def at_least(release):
    """True if the installed torch is `release` (such as "2.7") or newer."""
    ...


# --8<-- [end:exercise-version]


# --8<-- [start:solution-version]
def at_least(release):
    """True if the installed torch is `release` (such as "2.7") or newer."""
    return torch.__version__ >= release


# --8<-- [end:solution-version]


# --8<-- [start:check-version]
def check_at_least(at_least):
    installed = torch.__version__.split("+")[0]  # the release, no build tag
    for release, want in (("2.7", True), (installed, True), ("99.0", False)):
        got = at_least(release)
        assert isinstance(got, bool), (
            f"at_least({release!r}): expected True or False, got {got!r}"
        )
        assert got == want, (
            f"at_least({release!r}) returned {got}, expected {want}"
            " (as text, '2.13' < '2.7': compare versions, not text)"
        )
    print("right: versions compared as versions, not as text")


check_at_least(at_least)
# --8<-- [end:check-version]


# --8<-- [start:exercise-pick]
def pick_device(allow_gpu=True):
    """The best device, as in "Pick a device"; "cpu" if not allow_gpu."""
    ...


# --8<-- [end:exercise-pick]


# --8<-- [start:solution-pick]
def pick_device(allow_gpu=True):
    """The best device, as in "Pick a device"; "cpu" if not allow_gpu."""
    if allow_gpu and torch.cuda.is_available():
        return "cuda"
    if allow_gpu and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


# --8<-- [end:solution-pick]


# --8<-- [start:check-pick]
def check_pick(pick_device):
    got = pick_device()
    assert got == device, (
        f"pick_device() returned {got!r}, expected {device!r}"
    )
    got = pick_device(allow_gpu=False)
    assert got == "cpu", f"pick_device(allow_gpu=False) returned {got!r}"
    print("right: the best device by default, no GPU when asked")


check_pick(pick_device)
# --8<-- [end:check-pick]
