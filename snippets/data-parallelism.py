# --8<-- [start:imports]
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

NUM_PROCESSES = 2  # how many processes `python ddp_demo.py` starts
BATCH_PER_RANK = 4  # examples each process takes in one step
EPOCHS = 2
LR = 0.1


# --8<-- [end:imports]


# --8<-- [start:helpers]
def make_dataset():
    """The same 16 examples in every process (seeded, made on the CPU)."""
    gen = torch.Generator().manual_seed(0)
    features = torch.randn(16, 3, generator=gen)
    targets = features @ torch.tensor([[2.0], [-1.0], [0.5]])
    return TensorDataset(features, targets)


def flat(tensors):
    """The values of some tensors, as one flat tensor on the CPU."""
    return torch.cat([t.detach().flatten().cpu() for t in tensors])


def fmt(values):
    """A flat tensor as text, rounded to 4 decimals."""
    return "[" + ", ".join(f"{v:+.4f}" for v in values.tolist()) + "]"


def gather(value):
    """Collect a Python value from every rank: a list indexed by rank."""
    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def say(*args):
    """Print from rank 0 only, so each line appears once, in order."""
    if dist.get_rank() == 0:
        print(*args)


# --8<-- [end:helpers]


# --8<-- [start:setup]
def setup():
    """Join the process group; return the device this process computes on."""
    local_rank = int(os.environ["LOCAL_RANK"])  # index on this machine
    processes_here = int(os.environ["LOCAL_WORLD_SIZE"])
    use_nccl = (
        torch.cuda.is_available()
        and torch.cuda.device_count() >= processes_here  # a GPU per process
        and dist.is_nccl_available()  # no NCCL on Windows or in CPU builds
    )
    if use_nccl:
        backend = "nccl"  # NVIDIA's library: one GPU per process
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        backend = "gloo"  # CPU processes
        device = torch.device("cpu")
        torch.set_num_threads(1)  # one core per process, not all of them each
    # Reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT from the environment.
    dist.init_process_group(backend)
    return device


# --8<-- [end:setup]


# --8<-- [start:model]
def make_model(device):
    torch.manual_seed(dist.get_rank())  # a different seed per rank, on purpose
    model = nn.Linear(3, 1).to(device)
    for rank, weights in enumerate(gather(flat(model.parameters()))):
        say(f"before DDP, rank {rank}: {fmt(weights)}")
    model = DDP(model)  # sends rank 0's weights to every rank
    for rank, weights in enumerate(gather(flat(model.parameters()))):
        say(f"after DDP,  rank {rank}: {fmt(weights)}")
    return model


# --8<-- [end:model]


# --8<-- [start:train]
def report_step(step, loss, model):
    """Each rank's loss and gradient in this step, printed by rank 0."""
    grad = flat(p.grad for p in model.parameters())
    for rank, (loss_r, grad_r) in enumerate(gather((loss.item(), grad))):
        say(f"step {step}, rank {rank}: loss {loss_r:.3f}  grad {fmt(grad_r)}")


def train(model, dataset, device):
    # This rank's shard. shuffle=False only so that one_process() below can
    # take the same batches in order; leave the default True in real training.
    sampler = DistributedSampler(dataset, shuffle=False)
    loader = DataLoader(dataset, batch_size=BATCH_PER_RANK, sampler=sampler)
    for rank, indices in enumerate(gather(list(sampler))):
        say(f"rank {rank} trains on examples {indices}")
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    step = 0
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)  # with shuffle=True: a new order each epoch
        for features, targets in loader:
            features, targets = features.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(features), targets)
            loss.backward()  # DDP averages the gradients across ranks here
            step += 1
            report_step(step, loss, model)
            optimizer.step()


# --8<-- [end:train]


# --8<-- [start:one-process]
def one_process(initial, dataset, device):
    """The same training in one process, each batch holding every shard."""
    model = nn.Linear(3, 1).to(device)
    model.load_state_dict(initial)
    batch = BATCH_PER_RANK * dist.get_world_size()
    loader = DataLoader(
        dataset, batch_size=batch
    )  # the same batches, in order
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    for _ in range(EPOCHS):
        for features, targets in loader:
            features, targets = features.to(device), targets.to(device)
            optimizer.zero_grad()
            nn.functional.mse_loss(model(features), targets).backward()
            optimizer.step()
    return flat(model.parameters())


# --8<-- [end:one-process]


# --8<-- [start:worker]
def worker():
    """What every process runs, however it was started."""
    device = setup()
    dataset = make_dataset()
    model = make_model(device)
    initial = {k: v.clone() for k, v in model.module.state_dict().items()}
    train(model, dataset, device)
    final = gather(flat(model.parameters()))
    for rank, weights in enumerate(final):
        say(f"after training, rank {rank}: {fmt(weights)}")
    diff = max((w - final[0]).abs().max().item() for w in final)
    same = all(torch.equal(w, final[0]) for w in final)
    say(f"largest difference: {diff}  identical: {same}")
    if dist.get_rank() == 0:
        alone = one_process(initial, dataset, device)
        print("same as one process:", torch.allclose(final[0], alone))
    dist.destroy_process_group()
    # Workaround for torch 2.13 with gloo: DDP keeps gloo's worker threads
    # alive, and a process that exits while they still release their last
    # buffers can abort. A short pause lets them finish.
    time.sleep(0.1)


# --8<-- [end:worker]


# --8<-- [start:launch]
def free_port():
    """A TCP port that is free now: binding to port 0 lets the OS pick one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawned(local_rank, num_processes):
    """Started by mp.spawn: set what torchrun would have set, then run."""
    os.environ["RANK"] = os.environ["LOCAL_RANK"] = str(local_rank)
    os.environ["WORLD_SIZE"] = str(num_processes)
    os.environ["LOCAL_WORLD_SIZE"] = str(num_processes)
    worker()


if __name__ == "__main__":
    if "RANK" in os.environ:  # started by torchrun, once per process
        worker()
    else:  # started as `python ddp_demo.py`: start the processes here
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(free_port())
        mp.spawn(spawned, args=(NUM_PROCESSES,), nprocs=NUM_PROCESSES)
    # --8<-- [end:launch]

    # --8<-- [start:exercise-sampler]
    dataset = make_dataset()  # the 16 examples of ddp_demo.py
    sampler = ...  # rank 2's shard out of 4, in order, with no process group
    # --8<-- [end:exercise-sampler]

    # --8<-- [start:solution-sampler]
    dataset = make_dataset()
    sampler = DistributedSampler(
        dataset, num_replicas=4, rank=2, shuffle=False
    )
    # --8<-- [end:solution-sampler]

    # --8<-- [start:check-sampler]
    def check_sampler(sampler):
        kind = type(sampler).__name__
        assert isinstance(sampler, DistributedSampler), (
            f"{kind}, not a sampler"
        )
        got = list(sampler)
        assert got == [2, 6, 10, 14], f"expected [2, 6, 10, 14], got {got}"
        print("right: rank 2 of 4 trains on examples [2, 6, 10, 14]")

    check_sampler(sampler)
    # --8<-- [end:check-sampler]

    # --8<-- [start:exercise-shard]
    def shard(n, rank, world_size):
        """The indices out of range(n) that `rank` trains on, padded as
        DistributedSampler(..., shuffle=False) pads them."""
        ...

    # --8<-- [end:exercise-shard]

    # --8<-- [start:solution-shard]
    def shard(n, rank, world_size):
        """The indices out of range(n) that `rank` trains on, padded as
        DistributedSampler(..., shuffle=False) pads them."""
        total = -(-n // world_size) * world_size  # n, rounded up
        # Past n, start again from 0: the padding repeats the first examples.
        return [i % n for i in range(rank, total, world_size)]

    # --8<-- [end:solution-shard]

    # --8<-- [start:check-shard]
    def check_shard(shard):
        for n in range(1, 18):
            for world in range(1, 5):
                for rank in range(world):
                    sampler = DistributedSampler(
                        range(n), num_replicas=world, rank=rank, shuffle=False
                    )
                    want, got = list(sampler), shard(n, rank, world)
                    call = f"shard({n}, {rank}, {world})"
                    assert got == want, f"{call}: expected {want}, got {got}"
        print("right: the same shards as DistributedSampler, padding included")

    check_shard(shard)
    # --8<-- [end:check-shard]

    # --8<-- [start:exercise-average]
    def all_reduce_mean(grads):
        """One gradient per rank in; out, one per rank, each their mean."""
        ...

    # --8<-- [end:exercise-average]

    # --8<-- [start:solution-average]
    def all_reduce_mean(grads):
        """One gradient per rank in; out, one per rank, each their mean."""
        mean = sum(grads) / len(grads)
        return [mean.clone() for _ in grads]  # every rank holds its own copy

    # --8<-- [end:solution-average]

    # --8<-- [start:check-average]
    def check_average(all_reduce_mean):
        # Whole numbers first: their mean is exact, whatever the order.
        values = [[4.0, 0.0], [0.0, 8.0], [-4.0, 4.0], [8.0, 4.0]]
        grads = [torch.tensor(v) for v in values]  # one per rank, 4 ranks
        got = all_reduce_mean(grads)
        assert isinstance(got, list), f"expected a list, got {got}"
        assert len(got) == 4, f"expected one gradient per rank, got {len(got)}"
        mean = torch.tensor([2.0, 4.0])
        for rank, g in enumerate(got):
            assert torch.equal(g, mean), f"rank {rank}: {g}, not {mean}"
        # Then real ones: two ranks, a shard of 4 examples each, as in DDP.
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        features, targets = make_dataset()[:8]

        def gradient(rows):
            model.zero_grad()
            loss = nn.functional.mse_loss(model(features[rows]), targets[rows])
            loss.backward()
            return flat(p.grad for p in model.parameters())

        shards = [gradient(slice(rank, 8, 2)) for rank in range(2)]
        got = all_reduce_mean(shards)
        identical = all(torch.equal(g, got[0]) for g in got)
        assert identical, "the ranks should hold identical gradients"
        whole = gradient(slice(0, 8))  # one process, all 8 examples
        close = torch.allclose(got[0], whole, atol=1e-6)  # float rounding
        assert close, f"{got[0]} is not the whole batch's gradient {whole}"
        print("right: every rank holds the same gradient, the whole batch's")

    check_average(all_reduce_mean)
    # --8<-- [end:check-average]
