# --8<-- [start:order]
import torch

big, one = torch.tensor(1e8), torch.tensor(1.0)  # float32, as in a network
print((big - big) + one, big + (-big + one))  # the same three numbers
# --8<-- [end:order]

# --8<-- [start:deterministic]
conv_default = torch.backends.cudnn.conv.fp32_precision  # before the changes
matmul_tf32 = torch.backends.cuda.matmul.allow_tf32

torch.manual_seed(0)  # initial weights, dropout, the default generator
loader_generator = torch.Generator().manual_seed(0)  # DataLoader(generator=)
torch.use_deterministic_algorithms(True)  # a nondeterministic op raises
torch.backends.cudnn.benchmark = False  # no choice of kernel by timing
torch.backends.cudnn.deterministic = True  # deterministic cuDNN kernels
torch.backends.cudnn.conv.fp32_precision = "ieee"  # no TF32 convolutions
torch.backends.cuda.matmul.fp32_precision = "ieee"  # no TF32 matmuls

print("deterministic:", torch.are_deterministic_algorithms_enabled())
conv_now = torch.backends.cudnn.conv.fp32_precision
print("convolutions:", conv_default, "->", conv_now)
print("matmuls in TF32 by default:", matmul_tf32)
# --8<-- [end:deterministic]
