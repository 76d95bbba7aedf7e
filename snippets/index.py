# --8<-- [start:first]
import torch

x = torch.tensor([1, 2, 3])
print(x * 2)
# --8<-- [end:first]
