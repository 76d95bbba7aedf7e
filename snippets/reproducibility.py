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

# --8<-- [start:exercise-float64]
big64 = ...  # 1e8 as a float64 tensor
# --8<-- [end:exercise-float64]

# --8<-- [start:solution-float64]
big64 = torch.tensor(1e8, dtype=torch.float64)
# --8<-- [end:solution-float64]


# --8<-- [start:check-float64]
def check_float64(big64, one):
    assert isinstance(big64, torch.Tensor), f"expected a tensor, not {big64}"
    assert big64.dtype == torch.float64, f"expected float64, got {big64.dtype}"
    assert big64.item() == 1e8, f"expected the value 1e8, got {big64.item()}"
    total = big64 + (-big64 + one)  # the order that lost the 1 in float32
    assert total.item() == 1, f"expected 1 in this order, got {total.item()}"
    print("right: in float64, -1e8 + 1 keeps the 1")


check_float64(big64, one)
# --8<-- [end:check-float64]


# --8<-- [start:exercise-epoch-order]
def epoch_order(seed):
    """The order in which a shuffling DataLoader visits range(8)."""
    ...


# --8<-- [end:exercise-epoch-order]


# --8<-- [start:solution-epoch-order]
def epoch_order(seed):
    """The order in which a shuffling DataLoader visits range(8)."""
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        range(8), batch_size=8, shuffle=True, generator=generator
    )
    return next(iter(loader)).tolist()


# --8<-- [end:solution-epoch-order]


# --8<-- [start:check-epoch-order]
def check_epoch_order(epoch_order):
    torch.manual_seed(1)
    first = epoch_order(0)
    torch.manual_seed(2)  # another global seed must change nothing
    second = epoch_order(0)
    assert isinstance(first, list), f"expected a list, got {type(first)}"
    assert sorted(first) == list(range(8)), f"expected 0 to 7, got {first}"
    assert first == second, (
        f"seed 0 gave {first}, then {second}: the global seed decided the"
        " order; seed the DataLoader's own generator with `seed`"
    )
    assert epoch_order(1) != first, "seeds 0 and 1 gave the same order"
    print("right: the seed of the loader's generator fixes the order")


check_epoch_order(epoch_order)
# --8<-- [end:check-epoch-order]


# --8<-- [start:exercise-runs-repeat]
def runs_repeat(make_output, seed=0):
    """Whether make_output() returns equal tensors twice from one seed."""
    ...


# --8<-- [end:exercise-runs-repeat]


# --8<-- [start:solution-runs-repeat]
def runs_repeat(make_output, seed=0):
    """Whether make_output() returns equal tensors twice from one seed."""
    torch.manual_seed(seed)
    first = make_output()
    torch.manual_seed(seed)
    second = make_output()
    return torch.equal(first, second)


# --8<-- [end:solution-runs-repeat]


# --8<-- [start:check-runs-repeat]
def check_runs_repeat(runs_repeat):
    def dropout_net():  # new weights and a dropout mask: both random
        net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout())
        return net(torch.ones(1, 4))

    own = torch.Generator().manual_seed(0)  # not reseeded by manual_seed

    def own_draw():
        return torch.rand(3, generator=own)

    got = runs_repeat(dropout_net)
    assert got is True, f"expected True for a seeded network, got {got}"
    got = runs_repeat(own_draw)
    assert got is False, (
        f"expected False for a draw from its own generator, got {got}"
    )
    print("right: manual_seed repeats every draw without a generator=")


check_runs_repeat(runs_repeat)
# --8<-- [end:check-runs-repeat]
