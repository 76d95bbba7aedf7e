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
