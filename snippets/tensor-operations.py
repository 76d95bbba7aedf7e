# --8<-- [start:elementwise]
import torch

a = torch.tensor([[1, 2, 3], [4, 5, 6]])
b = torch.tensor([[10, 20, 30], [40, 50, 60]])

# Same shape: each value meets the value in the same place.
print(a + b)
print(b - a)
print(a * b)
print((a + b).shape)
# --8<-- [end:elementwise]

# --8<-- [start:division]
print(b / a)  # true division: whole numbers in, floats out
print((b / a).dtype)
print(a / 2)  # a plain number meets every value
print(a // 2)  # floor division keeps whole numbers
# --8<-- [end:division]

# --8<-- [start:broadcast-row]
row = torch.tensor([100, 200, 300])  # shape [3]

result = a + row  # [2, 3] + [3]: the row is added to each row of `a`
print(result)
print(result.shape)
# --8<-- [end:broadcast-row]

# --8<-- [start:broadcast-error]
per_row = torch.tensor([100, 200])  # shape [2]: one number per row of `a`

try:
    a + per_row  # [2, 3] + [2]: 3 and 2 are lined up, and neither is 1
except RuntimeError as error:
    print(f"RuntimeError: {error}")
# --8<-- [end:broadcast-error]

# --8<-- [start:broadcast-column]
column = torch.tensor([[100], [200]])  # shape [2, 1]: a column

result = a + column  # [2, 3] + [2, 1]: the column is added to each column
print(result)
print(result.shape)
# --8<-- [end:broadcast-column]

# --8<-- [start:matmul]
weights = torch.tensor([[1, 0], [0, 1], [1, 1]])  # shape [3, 2]

product = a @ weights  # [2, 3] @ [3, 2]: the inner sizes, 3 and 3, match
print(product)
print(product.shape)
print(torch.equal(product, torch.matmul(a, weights)))
# --8<-- [end:matmul]

# --8<-- [start:matmul-error]
try:
    a @ b  # [2, 3] @ [2, 3]: the inner sizes are 3 and 2
except RuntimeError as error:
    print(f"RuntimeError: {error}")

b_t = b.transpose(0, 1)  # swap dimensions 0 and 1: [2, 3] -> [3, 2]
print(b_t.shape)

product = a @ b_t  # [2, 3] @ [3, 2] -> [2, 2]
print(product)
print(product.shape)
# --8<-- [end:matmul-error]

# --8<-- [start:transpose]
print(b_t)  # the rows of `b` are now its columns
print(torch.equal(b.T, b_t))  # .T: the same, for a 2-D tensor

batch = torch.zeros(2, 3, 4)
print(batch.transpose(0, 1).shape)  # dimensions 0 and 1 swap sizes
print(batch.transpose(1, 2).shape)  # any two dimensions can swap
# --8<-- [end:transpose]

# --8<-- [start:squeeze]
x = torch.tensor([[1, 2, 3]])  # shape [1, 3]: one row

squeezed = x.squeeze(0)  # remove dimension 0, which has size 1
print(squeezed)
print(squeezed.shape)

print(a.squeeze(0).shape)  # dimension 0 of `a` has size 2: nothing changes
# --8<-- [end:squeeze]

# --8<-- [start:unsqueeze]
v = torch.tensor([1, 2, 3])  # shape [3]

print(v.unsqueeze(0).shape)  # a new dimension of size 1 at index 0: a row
print(v.unsqueeze(1).shape)  # a new dimension of size 1 at index 1: a column
print(v.unsqueeze(1))
# --8<-- [end:unsqueeze]

# --8<-- [start:unsqueeze-broadcast]
# The vector that failed above, made into a [2, 1] column.
print(per_row.unsqueeze(1).shape)

result = a + per_row.unsqueeze(1)
print(result)
print(result.shape)
# --8<-- [end:unsqueeze-broadcast]

# --8<-- [start:cat]
x = torch.tensor([[1, 1], [1, 1]])
y = torch.tensor([[2, 2], [2, 2]])
z = torch.tensor([[3, 3], [3, 3]])  # three tensors of shape [2, 2]

side_by_side = torch.cat([x, y, z], dim=1)  # join along dimension 1
print(side_by_side)
print(side_by_side.shape)

one_above_another = torch.cat([x, y, z], dim=0)  # join along dimension 0
print(one_above_another)
print(one_above_another.shape)
# --8<-- [end:cat]

# --8<-- [start:stack]
stacked = torch.stack([x, y, z])  # a new dimension 0, of size 3
print(stacked.shape)
print(stacked[2])  # the third of the stacked tensors: `z`

print(torch.stack([x, y, z], dim=1).shape)  # the new dimension at index 1
# --8<-- [end:stack]

# --8<-- [start:reshape]
numbers = torch.arange(6)  # shape [6]: 0, 1, 2, 3, 4, 5

grid = numbers.reshape(2, 3)  # the same six values, read row by row
print(grid)
print(grid.shape)
print(numbers.reshape(3, -1).shape)  # -1: "work this size out for me"
print(grid.flatten().shape)  # back to one dimension
# --8<-- [end:reshape]

# --8<-- [start:view]
viewed = numbers.view(3, 2)  # a view: new shape, same memory
print(viewed.shape)

numbers[0] = 100  # change the original...
print(viewed[0])  # ...and the view sees it
numbers[0] = 0  # put it back
# --8<-- [end:view]

# --8<-- [start:flatten-batch]
images = torch.zeros(4, 3, 5, 5)  # a batch of 4 images, 3 x 5 x 5 each

print(images.flatten(1).shape)  # keep dimension 0, flatten the rest
print(images.view(images.shape[0], -1).shape)  # the same, with view
# --8<-- [end:flatten-batch]

# --8<-- [start:view-error]
transposed = grid.transpose(0, 1)  # shape [3, 2], the same memory as `grid`
print(transposed.is_contiguous())

try:
    transposed.view(6)
except RuntimeError as error:
    print(f"RuntimeError: {str(error).splitlines()[0]}")

print(transposed.reshape(6))  # reshape copies when it must
print(transposed.contiguous().view(6))  # or copy first, then view
# --8<-- [end:view-error]

# --8<-- [start:indexing]
m = torch.arange(12).reshape(3, 4)
print(m)

print(m[0], m[0].shape)  # row 0
print(m[:, 1], m[:, 1].shape)  # column 1, from every row
print(m[1, 2], m[1, 2].shape)  # one value: a 0-dim tensor
print(m[1, 2].item())  # as a plain Python number
# --8<-- [end:indexing]

# --8<-- [start:slicing]
print(m[0:2, 1:3])  # rows 0 and 1, columns 1 and 2
print(m[0:2, 1:3].shape)
print(m[:, -1])  # the last column
print(m[:, 1:2].shape)  # a slice keeps the dimension: [3, 1], not [3]
print(m[m > 8])  # a True/False mask picks values, in a 1-D tensor
# --8<-- [end:slicing]

# --8<-- [start:reduce]
scores = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])  # shape [2, 3]

print(scores.sum(), scores.sum().shape)  # everything: one number
print(scores.sum(dim=0), scores.sum(dim=0).shape)  # down the columns
print(scores.sum(dim=1), scores.sum(dim=1).shape)  # across each row
print(scores.mean(dim=1), scores.mean(dim=1).shape)
print(scores.sum(dim=1, keepdim=True).shape)  # keep dimension 1, as size 1
# --8<-- [end:reduce]

# --8<-- [start:max]
values, indices = scores.max(dim=1)  # the largest value in each row...
print(values, values.shape)
print(indices, indices.shape)  # ...and where it is
print(scores.argmax(dim=1))  # only the positions
print(scores.max())  # no dim: the largest value overall
# --8<-- [end:max]

# --8<-- [start:mean-error]
try:
    a.mean()  # `a` holds whole numbers
except RuntimeError as error:
    print(f"RuntimeError: {error}")

print(a.float().mean())
# --8<-- [end:mean-error]

# --8<-- [start:in-place]
counts = torch.tensor([1, 2, 3])
same = counts  # a second name for the same tensor

counts.add_(10)  # in place: the trailing _ changes `counts` itself
counts *= 2  # the augmented operators work in place too
counts[0] = 0  # and so does assigning to an index or slice
print(counts, counts.shape)
print(same)  # the same tensor, so it changed too

counts = counts + 1  # a new tensor, bound to the name `counts`
print(counts)
print(same)  # unchanged this time
# --8<-- [end:in-place]

# --8<-- [start:in-place-grad]
w = torch.ones(3, requires_grad=True)  # a leaf: made here, not computed

try:
    w.add_(1)
except RuntimeError as error:
    print(f"RuntimeError: {error}")
# --8<-- [end:in-place-grad]

# --8<-- [start:in-place-saved]
x = torch.tensor([0.0, 1.0, 2.0], requires_grad=True)
y = x.exp()  # exp saves its result: the gradient of e**x is e**x
y.add_(1)  # allowed: y is not a leaf, but the saved value is now wrong

try:
    y.sum().backward()  # the check happens here, not at add_
except RuntimeError as error:
    message = str(error)
    print(f"RuntimeError: {message.split(':')[0]}")  # the stable part
    print("output 0 of Exp" in message)  # it names the operation, too
# --8<-- [end:in-place-saved]

# --8<-- [start:in-place-no-grad]
with torch.no_grad():  # not recorded, so allowed on a leaf
    w.add_(1)

print(w)
print(w.requires_grad, w.is_leaf)
# --8<-- [end:in-place-no-grad]

# --8<-- [start:device]
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"

# Floats: CUDA's matrix multiply does not take int64 tensors.
a_dev = a.float().to(device)
b_dev = b.float().to(device)

out = (a_dev @ b_dev.transpose(0, 1) + column.to(device)).sum(dim=1)
print(out.shape)
print(out.device.type == device)
print(out.cpu())
# --8<-- [end:device]

# --8<-- [start:exercise-predict]
t = torch.zeros(2, 3)
u = t.transpose(0, 1).unsqueeze(0)
chain = torch.cat([u, u, u], dim=2)

predicted = ...  # the shape of `chain`, worked out by hand, as a tuple
# --8<-- [end:exercise-predict]

# --8<-- [start:solution-predict]
# t: (2, 3); transpose: (3, 2); unsqueeze(0): (1, 3, 2); cat on dim 2: 2 * 3
predicted = (1, 3, 6)
# --8<-- [end:solution-predict]


# --8<-- [start:check-predict]
def check_predict(predicted, chain):
    real = tuple(chain.shape)
    assert isinstance(predicted, tuple), (
        f"expected a tuple of sizes, such as (5, 4), got {predicted!r}"
    )
    assert len(predicted) == len(real), (
        f"predicted {len(predicted)} dimensions, the chain has {len(real)}:"
        " unsqueeze adds one, transpose and cat keep the number"
    )
    assert predicted == real, f"predicted {predicted}, the chain gives {real}"
    print("right: transpose swaps, unsqueeze adds a 1, cat adds up one size")


check_predict(predicted, chain)
# --8<-- [end:check-predict]

# --8<-- [start:exercise-shares]
shares = ...  # scores, each row divided by that row's sum
# --8<-- [end:exercise-shares]

# --8<-- [start:solution-shares]
shares = scores / scores.sum(dim=1, keepdim=True)  # [2, 3] / [2, 1]
# --8<-- [end:solution-shares]


# --8<-- [start:check-shares]
def check_shares(shares):
    assert isinstance(shares, torch.Tensor), f"expected a tensor: {shares!r}"
    assert shares.shape == (2, 3), (
        f"expected shape (2, 3), got {tuple(shares.shape)}"
    )
    expected = torch.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    expected = expected / torch.tensor([[9.0], [12.0]])  # the row sums
    assert torch.allclose(shares.cpu(), expected), (
        f"expected rows [1, 5, 3] / 9 and [4, 2, 6] / 12, got {shares}"
    )
    print("right: each row divided by its own sum, so each sums to 1")


check_shares(shares)
# --8<-- [end:check-shares]


# --8<-- [start:exercise-batch]
def to_batch(examples):
    """One [n, k] tensor from n tensors of one shape: row i is example i."""
    ...


# --8<-- [end:exercise-batch]


# --8<-- [start:solution-batch]
def to_batch(examples):
    """One [n, k] tensor from n tensors of one shape: row i is example i."""
    return torch.stack(examples).flatten(1)


# --8<-- [end:solution-batch]


# --8<-- [start:check-batch]
def check_batch(to_batch):
    examples = [torch.full((3, 2, 2), i, device=device) for i in range(4)]
    batch = to_batch(examples)
    assert isinstance(batch, torch.Tensor), f"expected a tensor: {batch!r}"
    assert batch.shape == (4, 12), (
        f"expected shape (4, 12), got {tuple(batch.shape)}"
        " (torch.cat joins along a dimension; torch.stack adds one)"
    )
    for i, example in enumerate(examples):
        assert torch.equal(batch[i], example.flatten()), (
            f"row {i} should hold the values of examples[{i}]"
        )
    assert batch.device.type == device, "expected the examples' device"
    print("right: stacked along a new dimension 0, the rest flattened")


check_batch(to_batch)
# --8<-- [end:check-batch]
