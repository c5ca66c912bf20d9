"""jagged_softmax_backward zero-filling its output (torch.zeros, then the kernel's writes) A/B
against the version that allocates unfilled and writes every row once, interleaved in one
process at the standard shape (docs/performance.md). jagged_dense_bmm written the same way was
slower (0.87-1.02x: its extra loops cost more than the fill), so it keeps torch.zeros. The "before" kernels are taken from git at the
revision given (default cc7305e~1, the commit before the change). Run from the repository root
with the package installed: python bench/peers/unfilled_outputs_ab.py [REV]"""
import statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch, jagtile
import jagtile.ops as jops
torch.manual_seed(0)
jagtile.set_num_threads(2)
B, L, D = 1024, 512, 256
lengths = torch.randint(0, L + 1, (B,))  # uniform, mean L/2 (sparsity 0.5)
offsets = torch.zeros(B + 1, dtype=torch.int64); offsets[1:] = torch.cumsum(lengths, 0)
N = int(offsets[-1])
x = torch.randn(N, D)
g = torch.randn(N, D)
max_L = 384
rev = sys.argv[1] if len(sys.argv) > 1 else "cc7305e~1"
before = Path(tempfile.mkdtemp())
for f in ("jagged_softmax_backward",):
    text = subprocess.run(["git", "show", f"{rev}:ops/{f}.py"], check=True, capture_output=True, text=True)
    (before / f"{f}.py").write_text(text.stdout)
old_sb = jagtile.load(str(before / "jagged_softmax_backward.py")).jagged_softmax_backward
new_sb = jagtile.load(str(jops.kernel_file("jagged_softmax_backward"))).jagged_softmax_backward
probs = jops.jagged_softmax(x, offsets, max_L)[0]
cases = {"jagged_softmax_backward": (old_sb, new_sb, (g, probs, offsets, max_L))}
print(f"N={N} rows, D={D}, max_L={max_L}, 2 threads, 9 interleaved rounds")
for name, (old, new, args) in cases.items():
    a, b = old(*args), new(*args)
    assert torch.equal(a, b), name
    t = {"zeros": [], "empty": []}
    for _ in range(9):
        for k, f in (("zeros", old), ("empty", new)):
            s = time.perf_counter(); f(*args); t[k].append(time.perf_counter() - s)
    mz, me = statistics.median(t["zeros"]) * 1e3, statistics.median(t["empty"]) * 1e3
    print(f"{name:26s} zeros {mz:8.1f} ms   empty {me:8.1f} ms   {mz / me:.2f}x")
