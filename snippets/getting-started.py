# --8<-- [start:version]
import torch

print(
    torch.__version__
)  # the installed release; "+cpu" marks a CPU-only build
print(
    torch.cuda.is_available()
)  # True only with an NVIDIA GPU and a CUDA build
# --8<-- [end:version]

# --8<-- [start:gpu-name]
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))  # the name of GPU number 0
else:
    print("No CUDA GPU on this machine")
# --8<-- [end:gpu-name]

# --8<-- [start:device]
# The best device this machine has: NVIDIA GPU, Apple-silicon GPU, or CPU.
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
print(f"Using {device} device")
# --8<-- [end:device]

# --8<-- [start:accelerator]
# Since PyTorch 2.6 the same choice, for any kind of accelerator, in one call.
accelerator = torch.accelerator.current_accelerator()
print(accelerator)  # None when the machine has no accelerator
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
