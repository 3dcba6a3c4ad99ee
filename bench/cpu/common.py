"""What the CPU benchmarks share: the machine's description, thread CPU
timing, interleaved rounds, and compiling with another build of un-mlir.

Every contender is timed in CPU time of the calling thread
(time.thread_time) for one-thread runs, so time spent descheduled on a
shared machine does not count; multi-threaded runs use wall time
(perf_counter), the only clock that sees the other threads. Contenders run
in interleaved rounds, alternating direction, so slow phases of the
machine hit all of them alike; min and median are reported.
"""
import contextlib
import os
import platform
import statistics
import time


def cpu_description():
    """`model name` and the SIMD features that decide the code LLVM and the
    micro-kernels pick."""
    model, flags = platform.processor() or "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                        "avx512_bf16", "amx_tile", "asimd", "sve") if f in flags]
    return f"{model}; SIMD: {' '.join(simd) or 'none listed'}; {os.cpu_count()} CPUs"


def time_call(fn, reps, wall=False):
    """Seconds per call of `fn` over `reps` calls: CPU time of this thread,
    or wall time with `wall`."""
    clock = time.perf_counter if wall else time.thread_time
    start = clock()
    for _ in range(reps):
        fn()
    return (clock() - start) / reps


def interleaved(contenders, rounds, reps, wall=False, warmup=1, before=None):
    """{name: [seconds per call, one per round]} for {name: fn}; `before(fn)`
    runs ahead of each timing (untimed), when given."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times = {n: [] for n in contenders}
    for r in range(rounds):
        order = list(contenders.items())
        if r % 2:
            order.reverse()
        for n, fn in order:
            if before:
                before(fn)
            times[n].append(time_call(fn, reps, wall))
    return times


def summary(times):
    """{name: (min, median)} in milliseconds."""
    return {n: (min(ts) * 1e3, statistics.median(ts) * 1e3) for n, ts in times.items()}


@contextlib.contextmanager
def un_build(build_dir):
    """Inside the block, un_mlir compiles with the tools of `build_dir` (a
    build of another commit, for a before/after comparison in one run):
    un_mlir.tools reads UN_BUILD_DIR at every call."""
    saved = os.environ.get("UN_BUILD_DIR")
    os.environ["UN_BUILD_DIR"] = str(build_dir)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["UN_BUILD_DIR"]
        else:
            os.environ["UN_BUILD_DIR"] = saved
