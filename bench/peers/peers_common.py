"""What the peer benchmarks share: length distributions as jagtile's datagen draws them, the
same-run streaming read, interleaved timing, the output check, and the table / JSON / PNG report.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import jagtile


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def helion_kernel(path: str, name: str):
    """Helion's kernel `name` from its example file at `path`, body unchanged: extracted with its
    imports as scripts/helion_check.py does, then loaded by jagtile."""
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "scripts"))
    from helion_check import extract_kernels

    found, _ = extract_kernels(path, Path(path).read_text())
    (kernel,) = [k for k in found if k.name == name]
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}_extracted.py"
    out.write_text(kernel.text)
    return jagtile.load(str(out))[name]


def lengths_for(dist: str, batch: int, max_len: int, rng: np.random.Generator) -> np.ndarray:
    """Item lengths, as jagtile's datagen draws them (src/testing/datagen.cpp)."""
    if dist == "uniform":
        return rng.integers(0, max_len + 1, size=batch)
    if dist == "zipf":  # Pareto-tailed: most items short, a few at max_len
        x_min = max(1.0, max_len / 64.0)
        raw = x_min * np.power(1.0 - rng.random(batch), -1.0 / 1.1) - 1.0
        return np.clip(raw.astype(np.int64), 0, max_len)
    raise SystemExit(f"unknown length distribution '{dist}' (uniform, zipf)")


def offsets_of(lengths: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def add_run_options(p) -> None:
    """The options every peer script takes: rounds, threads, seed, autotune, out."""
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--autotune", nargs="?", const="quick", choices=["quick", "full"],
                   help="tune jagtile's config for each case first (jagtile.autotune, quick by "
                        "default, or full: a minute of search) and time the tuned kernel; a "
                        "stored config for the shape answers at once; without it, stored configs "
                        "are ignored")
    add_cache_option(p)
    p.add_argument("--out", help="write OUT.json, OUT.md and OUT.png")
    p.add_argument("--own-pool", action="store_true",
                   help="also time jagtile on its own threads (jagtile-own-pool), not on torch's "
                        "intra-op pool, which kernels use by default once torch is imported")


def add_cache_option(p, data: bool = False) -> None:
    """--cache: the state race() starts every timed call from; `data` offers the data-cold state,
    for a script whose races list each case's input tensors."""
    p.add_argument("--cache", choices=["cold", "warm"] + (["data"] if data else []),
                   default="cold",
                   help="the cache state every timed call starts from, for every implementation "
                        "alike: cold (default), right after an untimed read of 256 MiB, which "
                        "evicts the caches; warm, right after an untimed call of the same "
                        "implementation" + ("; data, right after an untimed call whose inputs "
                                            "and outputs are then flushed from every cache "
                                            "level (clflush), so the op's bytes come from "
                                            "memory while the code that calls it stays cached"
                                            if data else ""))


_tune_effort = "quick"
_cache = "cold"  # race's starting state for each timed call (--cache)


def set_cache(state: str) -> None:
    global _cache
    _cache = state


def apply_run_options(args) -> None:
    """Threads for torch and jagtile; without --autotune, jagtile's defaults."""
    global _tune_effort
    _tune_effort = args.autotune or "quick"
    set_cache(args.cache)
    if not args.autotune:
        os.environ["JAGTILE_AUTOTUNE"] = "0"  # the defaults, whatever an earlier run stored
    torch.set_num_threads(args.threads)
    jagtile.set_num_threads(args.threads)


def own_pool_candidates(args, ours) -> list:
    """With --own-pool, a candidate that runs `ours` on jagtile's own threads instead of torch's
    pool (the A/B of the torch pool, timed in the same rounds)."""
    if not args.own_pool:
        return []
    if not jagtile._core.torch_pool_active():
        return [("jagtile-own-pool", None, "torch's pool is not in use (no torch bridge)")]

    def run():
        jagtile._core.use_torch_pool(False)
        try:
            return ours()
        finally:
            jagtile._core.use_torch_pool(True)
    return [("jagtile-own-pool", run, "-")]


def tune(kernel, args: dict) -> str:
    """jagtile.autotune (the --autotune effort) on these arguments; later calls with them use the
    stored best. Returns the config it chose ("defaults" when none beat them)."""
    result = jagtile.autotune(kernel, **args, effort=_tune_effort)
    blocks = (result.get("config") or {}).get("block_sizes") or []
    config = f"block_sizes={blocks}" if blocks else "defaults"
    log(f"  autotune ({_tune_effort}): {config} ({result['speedup']:.2f}x over the defaults, "
        f"{result['seconds']:.1f} s{', stored' if result.get('from_cache') else ''})")
    return config


def stream_reader(nbytes: int):
    """A streaming read of `nbytes` (at least 64 MiB): torch.sum over float32 with this run's
    threads, its arithmetic far below the memory time. race() times it once in each round, right
    after evictor(), so its bandwidth is memory's, measured beside the implementations."""
    buf = torch.ones(max(nbytes, 64 << 20) // 4, dtype=torch.float32)
    return buf.numel() * 4, lambda: buf.sum()


def evictor():
    """A read of 256 MiB, untimed, that leaves the caches cold. A last-level cache keeps part of
    what a smaller streaming read passes through: on a Zen 4 with 32 MiB of L3, a 4 MiB torch.sum
    took 29 us warm, 123 us after a 64 MiB read and 197 us after a 256 MiB one, and a 64 MiB
    read right after another ran at 40.8 GiB/s against 29.8 after 256 MiB. One buffer serves
    every race of the process."""
    global _evict_buffer
    if _evict_buffer is None:
        _evict_buffer = torch.ones((256 << 20) // 4, dtype=torch.float32)
    buf = _evict_buffer
    return lambda: buf.sum()


_evict_buffer = None


def cache_line_flusher():
    """A function that flushes the lines of the tensors it is given from every cache level
    (cache_lines.c, built with the C compiler, $CC or cc, at the first use; x86-64 only)."""
    global _flush_lines
    if _flush_lines is None:
        import ctypes
        import hashlib
        import subprocess

        if platform.machine().lower() not in ("x86_64", "amd64"):
            raise SystemExit(f"--cache data flushes cache lines with clflush, which this "
                             f"{platform.machine()} machine does not have; use cold or warm")
        src = Path(__file__).with_name("cache_lines.c")
        digest = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
        lib = Path(os.environ.get("TMPDIR", "/tmp")) / f"jagtile_bench_cache_lines_{digest}.so"
        if not lib.exists():
            tmp = lib.with_suffix(f".{os.getpid()}.so")
            subprocess.run([os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC", str(src),
                            "-o", str(tmp)], check=True)
            tmp.replace(lib)  # whole, for a process beside this one
        fn = ctypes.CDLL(str(lib)).jt_bench_flush_lines
        fn.argtypes, fn.restype = [ctypes.c_void_p, ctypes.c_int64], None
        _flush_lines = fn

    def flush(tensors) -> None:
        for t in tensors:  # the whole storage, so a view flushes what it reads
            storage = t.untyped_storage()
            _flush_lines(storage.data_ptr(), storage.nbytes())
    return flush


_flush_lines = None


def tensors_in(result) -> list:
    """The tensors in what an implementation returned (a tensor, or lists and tuples of them)."""
    if isinstance(result, torch.Tensor):
        return [result]
    if isinstance(result, (list, tuple)):
        return [t for r in result for t in tensors_in(r)]
    return []


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def close(got, want, rtol=1e-4, atol=1e-4) -> str | None:
    """None when `got` equals `want` within fp32 reordering, else what differs."""
    if not isinstance(got, torch.Tensor):
        return f"returned {type(got).__name__}"
    if tuple(got.shape) != tuple(want.shape):
        return f"shape {tuple(got.shape)} instead of {tuple(want.shape)}"
    got, want = got.float(), want.float()
    if torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        return None
    nan = int((got.isnan() != want.isnan()).sum())
    if nan:
        return f"NaN in {nan} entries where jagtile has a number, or the reverse"
    return f"max abs difference {float((got - want).abs().max()):.3g}"


def qualify(label: str, ours, candidates, check) -> tuple[list, dict]:
    """Calls each candidate (name, fn or None, why it is missing) once and keeps those whose
    output `check(got)` accepts: it returns (status, note), status "ok" to keep. A candidate
    that raises (torch cannot run it on the CPU) is reported, not fatal. Returns the
    implementations to race, jagtile first, and a result entry per name."""
    impls = [("jagtile", ours)]
    results = {"jagtile": {"impl": "jagtile", "status": "ok"}}
    for impl, fn, missing in candidates:
        entry = results.setdefault(impl, {"impl": impl})
        if fn is None:
            entry["status"] = missing
        else:
            try:
                t0 = time.perf_counter()
                got = fn()
                log(f"  {label}: {impl}: first call {time.perf_counter() - t0:.2f} s")
                entry["status"], note = check(got)
                del got
            except Exception as e:
                entry["status"], note = f"unsupported: {type(e).__name__}: {str(e).splitlines()[0][:120]}", None
            if note:
                entry["note"] = note
                log(f"  {label}: {impl}: {note}")
            if entry["status"] == "ok":
                impls.append((impl, fn))
        if entry["status"] != "ok":
            log(f"  {label}: {impl}: {entry['status']}")
    return impls, results


def flop_peak_gflops(rounds: int = 5) -> float:
    """jagtile's f32 FMA probe on the threads kernels use now: the best of a few (a limit)."""
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        flops = jagtile._core.fma_stream(2000000)  # a few ms: the pool's wake-up does not count
        best = max(best, flops / ((time.perf_counter() - t0) * 1e9))
    return best


def bf16_peak_gflops(rounds: int = 5) -> float:
    """jagtile's bf16 probe likewise (AMX tiles where the CPU has them, else AVX512-BF16 pairs;
    jagtile._core.bf16_probe_unit() names it); 0 without a bf16 unit."""
    best = 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        flops = jagtile._core.bf16_stream(2000000)
        best = max(best, flops / ((time.perf_counter() - t0) * 1e9))
    return best


def race(impls, rounds: int, nbytes: int, flops: int = 0,
         inputs=()) -> tuple[dict, float]:
    """Times every (name, fn) round-robin, `rounds` calls each, beside a streaming read of
    `nbytes`; the first impl is the baseline. Returns ({name: stats}, read GB/s).

    Every timed call starts from the same cache state, whichever impl it is (`--cache`): cold,
    right after evictor()'s read (the inputs, and the interpreter's and libraries' own code and
    data, all evicted), warm, right after an untimed call of the same impl, or data (for a
    script that offers it: add_cache_option), right after an untimed call whose `inputs` and
    outputs are then flushed from the caches (cache_line_flusher), the code left warm. Rotating
    the order alone does not do that: a rotated cyclic order keeps each impl's neighbours, so until
    2026-12-06 the baseline (jagtile) followed the streaming read in all rounds but one in N,
    half-cold, while the impl after it found its inputs in the caches (docs/performance.md, "The
    races measured jagtile half-cold"). The streaming read is timed once a round, after an
    eviction, so that it is a read from memory too."""
    stream_bytes, stream = stream_reader(nbytes)
    evict = evictor()
    if _cache == "data":
        if not inputs:
            raise ValueError("race: --cache data needs the input tensors of the case")
        flush = cache_line_flusher()

        def prepare(fn):
            flush(list(inputs) + tensors_in(fn()))
    else:
        def prepare(fn):
            (evict if _cache == "cold" else fn)()
    stream()
    samples = {name: [] for name, _ in impls}
    stream_ms = []
    for r in range(rounds):  # round-robin, so drift on a shared machine hits every impl alike
        for name, fn in impls[r % len(impls):] + impls[:r % len(impls)]:
            prepare(fn)
            samples[name].append(timed(fn))
        evict()
        stream_ms.append(timed(stream))
    peak_gbps = stream_bytes / (statistics.median(stream_ms) * 1e6)
    base = statistics.median(samples[impls[0][0]])
    stats = {}
    for name, times in samples.items():
        median = statistics.median(times)
        gbps = nbytes / (median * 1e6)
        stats[name] = dict(median_ms=median, min_ms=min(times), gbps=gbps,
                           pct_of_peak=100.0 * gbps / peak_gbps,
                           gflops=flops / (median * 1e6) if flops else None,
                           jagtile_speedup=median / base, cache=_cache)
    return stats, peak_gbps


def log_flop_rows(rows, label) -> None:
    """Logs each timed row of a FLOP-counted race: `label(row)`, the implementation, its median,
    GFLOP/s, % of the FLOP peak and jagtile's lead."""
    for r in rows:
        if r.get("gflops") is not None:
            log(f"{label(r)} {r['impl']:13s} {r['median_ms']:9.1f} ms {r['gflops']:7.1f} GFLOP/s "
                f"{r['pct_of_flop_peak']:5.1f}% of FLOP peak, jagtile {r['jagtile_speedup']:.2f}x faster")


def table(rows) -> str:
    lines = ["| kernel | lengths | impl | median ms | GB/s | % of read peak | jagtile speedup |",
             "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        if "median_ms" in r:
            lines.append(f"| {r['kernel']} | {r['dist']} | {r['impl']} | {r['median_ms']:.2f} | "
                         f"{r['gbps']:.1f} | {r['pct_of_peak']:.0f}% | {r['jagtile_speedup']:.2f}x |")
        else:
            lines.append(f"| {r['kernel']} | {r['dist']} | {r['impl']} | — | — | — | {r['status']} |")
    return "\n".join(lines)


def chart(rows, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timed_rows = [r for r in rows if "median_ms" in r]
    groups = sorted({(r["kernel"], r["dist"]) for r in timed_rows})
    impls = sorted({r["impl"] for r in timed_rows}, key=lambda i: (i != "jagtile", i))
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(groups)), 4.8))
    width = 0.8 / len(impls)
    for i, impl in enumerate(impls):
        xs, ys = [], []
        for g, (kernel, dist) in enumerate(groups):
            hit = [r for r in timed_rows if (r["kernel"], r["dist"], r["impl"]) == (kernel, dist, impl)]
            if hit:
                xs.append(g + (i - (len(impls) - 1) / 2) * width)
                ys.append(hit[0]["pct_of_peak"])
        ax.bar(xs, ys, width, label=impl)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{k.removeprefix('jagged_')}\n{d}" for k, d in groups], fontsize=7,
                       rotation=30, ha="right")
    ax.set_ylabel("% of the same-run streaming read")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(rows, args, out: str | None, title: str) -> None:
    """Prints the table; with `out`, writes OUT.json (machine, versions, shape, rows), OUT.md and
    OUT.png."""
    doc = {
        "machine": platform.processor() or platform.machine(), "cpu_isa": jagtile._core.cpu_isa(),
        "threads": args.threads, "torch": torch.__version__, "numpy": np.__version__,
        "args": {k: v for k, v in vars(args).items() if k != "out"}, "results": rows,
        # How torch's OpenMP workers wait between ops. On a machine with as many cores as threads
        # their default spinning takes the cores jagtile's workers run on next (docs/performance.md).
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
    }
    try:
        import fbgemm_gpu

        doc["fbgemm_gpu"] = getattr(fbgemm_gpu, "__version__", "installed")
    except Exception:
        doc["fbgemm_gpu"] = None
    md = table(rows)
    print(md)
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
        path.with_suffix(".md").write_text(md + "\n")
        chart(rows, path.with_suffix(".png"), title)
        log(f"wrote {out}.json, .md, .png")
