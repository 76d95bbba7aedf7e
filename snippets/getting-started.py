# --8<-- [start:version]
import torch

print(torch.__version__)
print(torch.cuda.is_available())
# --8<-- [end:version]
