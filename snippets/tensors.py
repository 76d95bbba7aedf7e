# --8<-- [start:arrays]
import numpy as np
import torch

# The same 2x2 grid of numbers, as a NumPy array and as a PyTorch tensor.
grid_array = np.array([[1, 2], [3, 4]])
grid_tensor = torch.tensor([[1, 2], [3, 4]])

print(grid_array)
print(grid_tensor)
print(grid_array.shape, grid_tensor.shape)
# --8<-- [end:arrays]

# --8<-- [start:vector]
vector = torch.tensor([7, 7])

print(vector)
print(vector.shape)
# --8<-- [end:vector]

# --8<-- [start:matrix]
matrix = torch.tensor([[7, 7], [7, 7]])

print(matrix)
print(matrix.shape)
# --8<-- [end:matrix]

# --8<-- [start:ndim]
scalar = torch.tensor(7)  # a single number: no brackets, no dimensions
cube = torch.tensor(
    [[[7, 7], [7, 7]], [[7, 7], [7, 7]]]
)  # two 2x2 matrices stacked

for name, t in [
    ("scalar", scalar),
    ("vector", vector),
    ("matrix", matrix),
    ("cube", cube),
]:
    print(f"{name:<6}  ndim={t.ndim}  shape={t.shape}")
# --8<-- [end:ndim]

# --8<-- [start:sizes]
print(
    matrix.shape[0], matrix.size(0), len(matrix)
)  # three ways to ask for the size of dimension 0
print(scalar.item())  # a 0-dim tensor back to a plain Python number
# --8<-- [end:sizes]

# --8<-- [start:dtype]
print(vector.dtype)  # whole numbers -> 64-bit integers
print(torch.tensor([7.0, 7.0]).dtype)  # decimals -> 32-bit floats
print(torch.tensor([7, 7.5]).dtype)  # one float makes the whole tensor float

halves = torch.tensor(
    [7, 7], dtype=torch.float16
)  # ask for a dtype when creating
print(halves)
print(vector.to(torch.float32))  # or convert later: .to() returns a new tensor

flags = torch.tensor([7, 3]) > 5  # a comparison gives True/False values
print(flags)  # a bool tensor: its dtype is left out too
print(flags.dtype)
# --8<-- [end:dtype]

# --8<-- [start:numpy-dtype]
print(np.array([7.0, 7.0]).dtype)  # NumPy's default float: 64 bits
print(torch.get_default_dtype())  # PyTorch's default float: 32 bits
# --8<-- [end:numpy-dtype]

# --8<-- [start:zeros-ones]
zeros = torch.zeros(2, 3)  # the shape, as separate numbers...
ones = torch.ones((2, 3), dtype=torch.int64)  # ...or as one tuple

print(zeros)
print(zeros.shape, zeros.dtype)
print(ones)
print(ones.shape, ones.dtype)
# --8<-- [end:zeros-ones]

# --8<-- [start:rand]
torch.manual_seed(
    0
)  # seed the generator: the same "random" numbers on every run
uniform = torch.rand(2, 3)  # uniform in [0, 1)

print(uniform)
print(uniform.shape, uniform.dtype)
# --8<-- [end:rand]

# --8<-- [start:like]
blank = torch.zeros_like(uniform)  # same shape, dtype and device as `uniform`

print(blank)
print(blank.shape, blank.dtype)
# --8<-- [end:like]

# --8<-- [start:arange]
print(torch.arange(5))  # 0 up to 5, the end excluded
print(torch.arange(2, 10, 2))  # start, end, step
print(torch.arange(0, 1, 0.25))  # a float step gives a float tensor
print(torch.arange(5).shape)
# --8<-- [end:arange]

# --8<-- [start:from-numpy]
prices = np.array([1.0, 2.0, 3.0])
shared = torch.from_numpy(prices)  # shares memory with `prices`
copied = torch.tensor(prices)  # copies the data

prices[0] = 100.0  # change the NumPy array...
print(shared)  # ...and the shared tensor sees it
print(copied)  # the copy does not
print(shared.shape)
print("shares memory:", np.shares_memory(prices, shared.numpy()))
# --8<-- [end:from-numpy]

# --8<-- [start:to-numpy]
counts = torch.ones(3)
counts_array = counts.numpy()  # shares memory as well

counts.add_(1)  # an in-place operation: the trailing _ changes `counts` itself
print(counts)
print(counts_array, counts_array.dtype, counts_array.shape)
# --8<-- [end:to-numpy]

# --8<-- [start:float32]
features = torch.from_numpy(prices).to(
    torch.float32
)  # a float32 copy, ready for a model

print(features)
print(features.shape, features.dtype)
# --8<-- [end:float32]

# --8<-- [start:numpy-error]
weights = torch.ones(
    3, requires_grad=True
)  # PyTorch will track gradients for `weights`

try:
    weights.numpy()
except RuntimeError as error:
    print(f"RuntimeError: {error}")

print(
    weights.detach().numpy()
)  # detach(): the same data, without gradient tracking
# --8<-- [end:numpy-error]

# --8<-- [start:device]
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

torch.manual_seed(0)
on_cpu = torch.rand(2, 3)  # made on the CPU: the same values on every machine
on_device = on_cpu.to(
    device
)  # a copy on the device (the same tensor if it is already there)

print(on_device.shape, on_device.dtype)
print("on the device:", on_device.device.type == device)
# --8<-- [end:device]

# --8<-- [start:create-on-device]
ones_there = torch.ones(
    2, 3, device=device
)  # created on the device directly, no copy
total = on_device + ones_there  # both operands on the same device

print(total.shape)
print("same device:", total.device == on_device.device)
# --8<-- [end:create-on-device]

# --8<-- [start:back-to-cpu]
result = total.cpu()  # back to the CPU, where NumPy can read it

print(result)
print(result.numpy().shape)
# --8<-- [end:back-to-cpu]

# --8<-- [start:exercise-zeros]
half_zeros = ...  # 3x4, all zeros, float16, on `device`
# --8<-- [end:exercise-zeros]

# --8<-- [start:solution-zeros]
half_zeros = torch.zeros(3, 4, dtype=torch.float16, device=device)
# --8<-- [end:solution-zeros]


# --8<-- [start:check-zeros]
def check_zeros(t):
    assert isinstance(t, torch.Tensor), f"expected a tensor, got {type(t)}"
    assert t.shape == (3, 4), f"expected shape (3, 4), got {tuple(t.shape)}"
    assert t.dtype == torch.float16, f"expected float16, got {t.dtype}"
    assert t.device.type == device, f"expected {device}, got {t.device.type}"
    assert not t.any(), "expected every value to be 0"
    print("right: a 3x4 float16 tensor of zeros, on the chosen device")


check_zeros(half_zeros)
# --8<-- [end:check-zeros]

# --8<-- [start:exercise-memory]
readings = np.arange(4.0)
shared = ...  # a tensor that shares the memory of `readings`
copied = ...  # a tensor with a copy of the values of `readings`
readings[0] = 100.0  # changes the array after both tensors exist
# --8<-- [end:exercise-memory]

# --8<-- [start:solution-memory]
readings = np.arange(4.0)
shared = torch.from_numpy(readings)
copied = torch.tensor(readings)
readings[0] = 100.0  # changes the array after both tensors exist
# --8<-- [end:solution-memory]


# --8<-- [start:check-memory]
def check_memory(shared, copied):
    for name, t in (("shared", shared), ("copied", copied)):
        assert isinstance(t, torch.Tensor), f"{name}: expected a tensor"
    assert shared[0] == 100, "shared[0] did not change: it has its own copy"
    assert copied[0] == 0, "copied[0] changed: it shares the array's memory"
    print("right: from_numpy shares the memory, torch.tensor copies")


check_memory(shared, copied)
# --8<-- [end:check-memory]


# --8<-- [start:exercise-to-numpy]
def to_numpy(t):
    """A NumPy array of t's values, wherever t lives, gradients or not."""
    ...


# --8<-- [end:exercise-to-numpy]


# --8<-- [start:solution-to-numpy]
def to_numpy(t):
    """A NumPy array of t's values, wherever t lives, gradients or not."""
    return t.detach().cpu().numpy()


# --8<-- [end:solution-to-numpy]


# --8<-- [start:check-to-numpy]
def check_to_numpy(to_numpy):
    weights = torch.ones(2, 2, device=device, requires_grad=True)
    got = to_numpy(weights)
    assert isinstance(got, np.ndarray), f"expected an array, got {type(got)}"
    assert got.shape == (2, 2), f"expected shape (2, 2), got {got.shape}"
    assert (got == 1).all(), f"expected all ones, got {got}"
    print("right: works on any device, with gradients tracked")


check_to_numpy(to_numpy)
# --8<-- [end:check-to-numpy]
