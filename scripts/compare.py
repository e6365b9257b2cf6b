#!/usr/bin/env python3
"""twat_cache against what users would pick instead, in one run on one machine.

    scripts/compare.sh                     # the one command: installs, builds, runs this
    /usr/bin/python3 scripts/compare.py --binary build/compare/bench/bench_compare \\
        [--png docs/images/compare.png] [--markdown compare.md] [--json compare.json]

Runs the same three workloads through

  C++ (bench/bench_compare.cpp, Google Benchmark, medians of --repetitions runs):
    mcache, mcache over std::shared_ptr<const std::vector<double>> (8 MB row only), bcache
    (SQLite), fcache (one file per entry);
  Python (timed here, timeit-style: the garbage collector off while timing, each repetition a loop
  of n calls lasting at least --min-time seconds, medians of --repetitions repetitions):
    functools.lru_cache, cachetools.cached(LRUCache), cachetools.cached(TTLCache),
    diskcache.Cache(dir).memoize(), joblib.Memory(dir).cache;

and prints one Markdown table of ns per call (rows: workloads; columns: caches), a table of
ratios, and draws a PNG chart (log-scale ns per call, bars grouped by workload).

Workloads, identical in meaning on both sides:
  hit_small   f(x) = 3x + 1 on int keys; 1,000 keys (7919 i + 13) visited in a fixed shuffled
              order, all stored before timing: every timed call is a hit
  miss_small  the same f with a key never seen on every call: lookup, f, store. The memory
              caches and bcache/fcache have maxsize 1,000 and are full, so each store evicts one
              entry; diskcache (bounded by bytes: size_limit, 1 GB by default, never reached here)
              and joblib.Memory (unbounded) evict nothing
  hit_8MB     a function returning an 8 MiB array of float64 (1,048,576 elements, element i =
              0.5 i + k), called again with the same key: a hit. C++: std::vector<double> by value
              (mcache copies it, bcache/fcache read and decode it); the extra row `hit_8MB,
              shared_ptr` is mcache over std::shared_ptr<const std::vector<double>>, which returns
              a reference as Python's memory caches do. Python: a numpy array when numpy is
              installed, else 8 MiB of bytes (the output says which)
Every cache has maxsize 1,000 where it has one (TTLCache: ttl 3,600 s), otherwise its defaults.

Ratios: each cache against twat_cache's cache of the same kind on the same row: the memory
caches (mcache, lru_cache, cachetools) against mcache, the disk caches (bcache, fcache,
diskcache, joblib) against the faster of bcache and fcache. Above 1: slower than ours.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import repeat
from pathlib import Path
from typing import Callable

KEY_COUNT = 1000
MAXSIZE = 1000
ARRAY_SIZE = 1 << 20  # float64 elements: 8 MiB
TTL_SECONDS = 3600
MISS_FIRST_KEY = 1 << 24  # far above the hit keys

ROOT = Path(__file__).resolve().parent.parent
TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# Workloads (rows) and caches (columns), in table order.
WORKLOADS = ["hit_small", "miss_small", "hit_8MB", "hit_8MB_shared_ptr"]
ROW_LABEL = {
    "hit_small": "hit, int key",
    "miss_small": "miss + store, int key",
    "hit_8MB": "hit, 8 MB array",
    "hit_8MB_shared_ptr": "hit, 8 MB array, mcache → `shared_ptr`",
}
CPP = ["mcache", "bcache", "fcache"]
PY = ["lru_cache", "cachetools_lru", "cachetools_ttl", "diskcache", "joblib"]
COLUMNS = CPP + PY
COLUMN_LABEL = {
    "mcache": "mcache",
    "bcache": "bcache",
    "fcache": "fcache",
    "lru_cache": "functools.lru_cache",
    "cachetools_lru": "cachetools LRU",
    "cachetools_ttl": "cachetools TTL",
    "diskcache": "diskcache",
    "joblib": "joblib.Memory",
}
MEMORY = {"mcache", "lru_cache", "cachetools_lru", "cachetools_ttl"}
DISK = {"bcache", "fcache", "diskcache", "joblib"}


def die(message: str) -> None:
    print(f"compare.py: {message}", file=sys.stderr)
    sys.exit(2)


# ---- the Python side -----------------------------------------------------------------------------

try:
    import numpy as np  # joblib is built for numpy arrays; the 8 MB value is one when it is there
except ImportError:  # pragma: no cover
    np = None


def hit_keys() -> list[int]:
    keys = [i * 7919 + 13 for i in range(KEY_COUNT)]
    random.Random(20240611).shuffle(keys)
    return keys


class Counted:
    """The functions being memoized, counting their real calls (to check that hits are hits).
    The miss workload uses the uncounted f_small: its cost is part of every call."""

    def __init__(self) -> None:
        self.calls = 0


def make_functions(counter: Counted):
    # Plain module-level-like functions with stable names: diskcache and joblib key on the name.
    def f_small(x):
        return x * 3 + 1

    def f_small_counted(x):
        counter.calls += 1
        return x * 3 + 1

    if np is not None:
        base = np.arange(ARRAY_SIZE, dtype=np.float64) * 0.5

        def f_array(k):
            counter.calls += 1
            return base + float(k)
    else:
        def f_array(k):
            counter.calls += 1
            return bytes([k % 256]) * (ARRAY_SIZE * 8)

    return f_small, f_small_counted, f_array


def decorators(tmp: Path, opened: list) -> dict[str, Callable[[Callable, str], Callable]]:
    """cache name -> decorate(f, tag): the memoized f, as a user writes it. `tag` names the
    folder of a disk cache (one per workload). The diskcache.Cache objects made are appended to
    `opened`, for the caller to close."""
    import cachetools
    import diskcache
    import joblib

    def lru(f, tag):
        return functools.lru_cache(maxsize=MAXSIZE)(f)

    def ct_lru(f, tag):
        return cachetools.cached(cachetools.LRUCache(maxsize=MAXSIZE))(f)

    def ct_ttl(f, tag):
        return cachetools.cached(cachetools.TTLCache(maxsize=MAXSIZE, ttl=TTL_SECONDS))(f)

    def dc(f, tag):
        cache = diskcache.Cache(str(tmp / f"diskcache-{tag}"))
        opened.append(cache)
        return cache.memoize()(f)

    def jl(f, tag):
        memory = joblib.Memory(str(tmp / f"joblib-{tag}"), verbose=0)
        return memory.cache(f)

    return {"lru_cache": lru, "cachetools_lru": ct_lru, "cachetools_ttl": ct_ttl,
            "diskcache": dc, "joblib": jl}


def median_ns_per_call(run: Callable[[int], float], min_time: float, repetitions: int) -> float:
    """timeit-style: find n calls lasting at least min_time, then time `repetitions` loops of n
    calls; the median, in ns per call. run(n) makes n calls and returns the seconds they took."""
    n = 1
    while True:
        elapsed = run(n)
        if elapsed >= min_time / 4:
            break
        n *= 2 if elapsed < min_time / 40 else 4
    n = max(1, int(n * min_time / max(elapsed, 1e-9)))
    samples = [run(n) / n * 1e9 for _ in range(repetitions)]
    return statistics.median(samples)


def gc_off(run: Callable[[int], float]) -> Callable[[int], float]:
    def wrapped(n: int) -> float:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return run(n)
        finally:
            if enabled:
                gc.enable()
    return wrapped


def python_side(args) -> tuple[dict[tuple[str, str], float], dict[str, float], list[str]]:
    """(workload, cache) -> ns per call; extra figures (the plain call); notes."""
    results: dict[tuple[str, str], float] = {}
    notes: list[str] = []
    perf = time.perf_counter
    keys = hit_keys()
    counter = Counted()
    f_small, f_small_counted, f_array = make_functions(counter)
    miss_key = [MISS_FIRST_KEY]

    def over_keys(g):
        """A timed run of n calls g(k), k cycling through the hit keys."""
        def run(n: int) -> float:
            rounds, rest = divmod(n, len(keys))
            tail = keys[:rest]
            t0 = perf()
            for _ in repeat(None, rounds):
                for k in keys:
                    g(k)
            for k in tail:
                g(k)
            return perf() - t0
        return run
    tmp = Path(tempfile.mkdtemp(prefix="twat_cache_compare_"))
    opened: list = []
    try:
        decorate = decorators(tmp, opened)
        for name in PY:
            if args.only_python and name not in args.only_python:
                continue
            # hit_small
            g = decorate[name](f_small_counted, "hit_small")
            for k in keys:
                g(k)
            for k in keys:
                g(k)

            calls = counter.calls
            results[("hit_small", name)] = median_ns_per_call(gc_off(over_keys(g)), args.min_time,
                                                              args.repetitions)
            if counter.calls != calls:
                die(f"{name} hit_small: {counter.calls - calls} timed calls were not hits")
            print(f"compare.py: {name:15} hit_small   {results[('hit_small', name)]:>14,.1f} ns",
                  file=sys.stderr)

            # miss_small: the cache full first (a bounded one evicts on every timed store)
            g = decorate[name](f_small, "miss_small")
            for k in range(miss_key[0], miss_key[0] + MAXSIZE):
                g(k)
            miss_key[0] += MAXSIZE

            def run_miss(n: int, g=g) -> float:
                start = miss_key[0]
                miss_key[0] += n
                keys_n = range(start, start + n)
                t0 = perf()
                for k in keys_n:
                    g(k)
                return perf() - t0

            results[("miss_small", name)] = median_ns_per_call(gc_off(run_miss), args.min_time,
                                                               args.repetitions)
            print(f"compare.py: {name:15} miss_small  {results[('miss_small', name)]:>14,.1f} ns",
                  file=sys.stderr)

            # hit_8MB
            g = decorate[name](f_array, "hit_8MB")
            first = g(0)
            again = g(0)
            expected = f_array(0)
            same = (np.array_equal(again, expected) if np is not None else again == expected)
            if not same or len(first) != len(expected):
                die(f"{name} hit_8MB: the value read back differs from the function's")

            def run_8mb(n: int, g=g) -> float:
                t0 = perf()
                for _ in repeat(None, n):
                    g(0)
                return perf() - t0

            calls = counter.calls
            results[("hit_8MB", name)] = median_ns_per_call(gc_off(run_8mb), args.min_time,
                                                            args.repetitions)
            if counter.calls != calls:
                die(f"{name} hit_8MB: {counter.calls - calls} timed calls were not hits")
            print(f"compare.py: {name:15} hit_8MB     {results[('hit_8MB', name)]:>14,.1f} ns",
                  file=sys.stderr)
            # Python returns the same object on a memory hit: the shared_ptr row's figure.
            results[("hit_8MB_shared_ptr", name)] = results[("hit_8MB", name)]

        # For scale: the loop of the int rows alone, and calling f_small itself (no cache).
        def run_loop(n: int) -> float:
            rounds, rest = divmod(n, len(keys))
            tail = keys[:rest]
            t0 = perf()
            for _ in repeat(None, rounds):
                for k in keys:
                    pass
            for k in tail:
                pass
            return perf() - t0

        extra = {"plain_call": median_ns_per_call(gc_off(over_keys(f_small)), args.min_time,
                                                  args.repetitions),
                 "empty_loop": median_ns_per_call(gc_off(run_loop), args.min_time,
                                                  args.repetitions)}
    finally:
        for cache in opened:
            cache.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if np is not None:
        notes.append(f"Python's 8 MB value: a numpy float64 array of {ARRAY_SIZE:,} elements "
                     f"(numpy {np.__version__}).")
    else:
        notes.append("Python's 8 MB value: 8 MiB of bytes (numpy is not installed).")
    return results, extra, notes


# ---- the C++ side --------------------------------------------------------------------------------

def cpp_side(args) -> tuple[dict[tuple[str, str], float], dict, list[str]]:
    if args.cpp_json:
        data = json.loads(Path(args.cpp_json).read_text())
    else:
        binary = Path(args.binary)
        if not binary.exists():
            die(f"{binary} not found: build it (scripts/compare.sh does) or pass --binary")
        command = [str(binary), "--benchmark_format=json",
                   f"--benchmark_repetitions={args.repetitions}",
                   "--benchmark_report_aggregates_only=true",
                   f"--benchmark_min_time={args.min_time}"]
        if args.cpp_filter:
            command.append(f"--benchmark_filter={args.cpp_filter}")
        print(f"compare.py: running {' '.join(command)}", file=sys.stderr)
        done = subprocess.run(command, stdout=subprocess.PIPE, check=False)
        if done.returncode != 0:
            die(f"{binary} exited with {done.returncode}")
        data = json.loads(done.stdout)
    results: dict[tuple[str, str], float] = {}
    notes: list[str] = []
    for r in data.get("benchmarks", []):
        if r.get("run_type") == "aggregate" and r.get("aggregate_name") != "median":
            continue
        name = r.get("run_name", r["name"])
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "compare":
            continue
        _, workload, cache = parts
        if r.get("error_occurred"):
            notes.append(f"C++ {name}: {r.get('error_message', 'error')}")
            continue
        ns = r["real_time"] * TIME_UNIT_NS[r.get("time_unit", "ns")]
        if cache == "mcache_shared_ptr":
            results[("hit_8MB_shared_ptr", "mcache")] = ns
        else:
            results[(workload, cache)] = ns
    return results, data.get("context", {}), notes


# ---- the report ----------------------------------------------------------------------------------

def fmt_ns(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def fmt_ratio(v: float | None) -> str:
    """1.50× is 1.5 times the baseline's time; 1/300× is 300 times faster than the baseline."""
    if v is None:
        return "—"
    if v < 0.1:
        return f"1/{1 / v:,.0f}×"
    if v < 10:
        return f"{v:.2f}×"
    return f"{v:.1f}×" if v < 100 else f"{v:,.0f}×"


def baseline(results: dict, workload: str, cache: str) -> float | None:
    """mcache for the memory caches; the faster of bcache and fcache for the disk caches."""
    if cache in MEMORY:
        return results.get((workload, "mcache"))
    disk = [results.get((workload, c)) for c in ("bcache", "fcache")]
    disk = [v for v in disk if v is not None]
    return min(disk) if disk else None


def present(results: dict, workload: str, cache: str) -> float | None:
    if workload == "hit_8MB_shared_ptr" and cache not in MEMORY:
        return None  # the row compares caches that return a reference, in memory
    return results.get((workload, cache))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def compiler(binary: Path) -> str:
    """The C++ compiler of the build tree that holds `binary`, from its CMakeCache.txt."""
    for folder in binary.resolve().parents:
        cache = folder / "CMakeCache.txt"
        if not cache.exists():
            continue
        found = {}
        for line in cache.read_text(errors="replace").splitlines():
            for var in ("CMAKE_CXX_COMPILER:", "CMAKE_BUILD_TYPE:"):
                if line.startswith(var):
                    found[var] = line.split("=", 1)[1]
        cxx = found.get("CMAKE_CXX_COMPILER:", "")
        try:
            first = subprocess.run([cxx, "--version"], capture_output=True, text=True,
                                   check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            first = cxx or "unknown compiler"
        return f"{first}, CMAKE_BUILD_TYPE={found.get('CMAKE_BUILD_TYPE:', '?')}"
    return "unknown compiler"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for module in ("cachetools", "diskcache", "joblib", "numpy", "matplotlib"):
        try:
            out[module] = __import__(module).__version__
        except ImportError:
            out[module] = "not installed"
    return out


def markdown(results: dict, extra: dict, context: dict, notes: list[str], args) -> str:
    workloads = [w for w in WORKLOADS if any(present(results, w, c) is not None for c in COLUMNS)]
    head = "| workload | " + " | ".join(COLUMN_LABEL[c] for c in COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(COLUMNS)
    lines = ["## ns per call (median)", "", head, rule]
    for w in workloads:
        lines.append(f"| {ROW_LABEL[w]} | " +
                     " | ".join(fmt_ns(present(results, w, c)) for c in COLUMNS) + " |")
    lines += ["", "## Ratios: each cache against twat_cache's cache of its kind "
              "(memory: mcache; disk: the faster of bcache and fcache); above 1 is slower, "
              "1/N is N times faster", "",
              head, rule]
    for w in workloads:
        cells = []
        for c in COLUMNS:
            v, b = present(results, w, c), baseline(results, w, c)
            cells.append(fmt_ratio(None if v is None or not b else v / b))
        lines.append(f"| {ROW_LABEL[w]} | " + " | ".join(cells) + " |")
    v = versions()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    lines += [
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}; load average at the end {load[0]:.2f}. "
        f"{datetime.date.today().isoformat()}.",
        f"- C++: bench_compare built by {compiler(Path(args.binary))}; Google Benchmark, "
        f"{args.repetitions} repetitions of at least {args.min_time} s, medians.",
        f"- Python {v['python']}: cachetools {v['cachetools']}, diskcache {v['diskcache']}, "
        f"joblib {v['joblib']}, numpy {v['numpy']} ({args.repetitions} repetitions of at least "
        f"{args.min_time} s, medians, garbage collector off while timing).",
    ]
    if "plain_call" in extra:
        lines.append(f"- For scale, in Python: the loop of the int rows alone takes "
                     f"{fmt_ns(extra['empty_loop'])} ns per key, and calling f(x) = 3x + 1 itself "
                     f"in it, no cache, {fmt_ns(extra['plain_call'])} ns per call "
                     f"(functools.lru_cache is written in C: its hit can cost less than calling "
                     f"the Python function).")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def chart(results: dict, path: Path, title_note: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [("hit_small", "hit, int key"), ("miss_small", "miss + store, int key"),
              ("hit_8MB", "hit, 8 MB float64 array")]
    series = [("mcache", "C++ mcache"), ("mcache_shared_ptr", "C++ mcache → shared_ptr"),
              ("bcache", "C++ bcache (SQLite)"), ("fcache", "C++ fcache (files)"),
              ("lru_cache", "Python functools.lru_cache"),
              ("cachetools_lru", "Python cachetools LRU"),
              ("cachetools_ttl", "Python cachetools TTL"), ("diskcache", "Python diskcache"),
              ("joblib", "Python joblib.Memory")]
    colors = {"mcache": "#08519c", "mcache_shared_ptr": "#6baed6", "bcache": "#238b45",
              "fcache": "#74c476", "lru_cache": "#a63603", "cachetools_lru": "#e6550d",
              "cachetools_ttl": "#fd8d3c", "diskcache": "#756bb1", "joblib": "#bcbddc"}

    def value(group: str, key: str) -> float | None:
        if key == "mcache_shared_ptr":
            return results.get(("hit_8MB_shared_ptr", "mcache")) if group == "hit_8MB" else None
        return results.get((group, key))

    def short(y: float) -> str:
        for scale, unit in ((1e6, "M"), (1e3, "k"), (1.0, "")):
            if y >= scale:
                v = y / scale
                return f"{v:.2g}{unit}" if v < 10 else f"{v:.0f}{unit}"
        return f"{y:.2g}"

    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    slot = 0.9 / len(series)
    labelled: set[str] = set()
    for g, (group, _) in enumerate(groups):
        present_keys = [k for k, _ in series if value(group, k) is not None]
        start = g - slot * len(present_keys) / 2
        for i, key in enumerate(present_keys):
            y = value(group, key)
            hatch = "//" if key in DISK else None
            label = dict(series)[key] if key not in labelled else None
            labelled.add(key)
            bar = ax.bar(start + slot * (i + 0.5), y, slot * 0.92, label=label,
                         color=colors[key], hatch=hatch,
                         edgecolor="white" if hatch else None, linewidth=0)[0]
            ax.annotate(short(y), (bar.get_x() + bar.get_width() / 2, y), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7,
                        rotation=90)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.set_ylabel("ns per call (median, log scale; lower is better)")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([label for _, label in groups])
    ax.set_ylim(top=ax.get_ylim()[1] * 30)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(label) for _, label in series if label in labels]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], ncol=3, fontsize=8,
              loc="upper left", frameon=False)
    ax.set_title("twat_cache (C++) and the Python caches users would pick instead\n" + title_note,
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / "build/compare/bench/bench_compare"),
                        help="the bench_compare program (default: %(default)s)")
    parser.add_argument("--cpp-json", help="read the C++ results from this Google Benchmark "
                        "JSON file instead of running --binary")
    parser.add_argument("--cpp-filter", help="--benchmark_filter for the C++ side")
    parser.add_argument("--only-python", nargs="*", choices=PY,
                        help="run only these Python caches")
    parser.add_argument("--repetitions", type=int, default=5, help="default: %(default)s")
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds per repetition, both sides (default: %(default)s)")
    parser.add_argument("--png", default=str(ROOT / "docs/images/compare.png"),
                        help="the chart (default: %(default)s); '' for none")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--json", help="also write every figure (ns per call) to this file")
    args = parser.parse_args()

    missing = [m for m in ("cachetools", "diskcache", "joblib")
               if __import__("importlib").util.find_spec(m) is None]
    if missing:
        die(f"no module {', '.join(missing)} in {sys.executable}: run scripts/compare.sh, which "
            f"installs Debian's python3-cachetools, python3-diskcache and python3-joblib and runs "
            f"this with /usr/bin/python3")

    started = time.monotonic()
    cpp, context, cpp_notes = cpp_side(args)
    py, extra, py_notes = python_side(args)
    results = {**cpp, **py}
    report = markdown(results, extra, context, cpp_notes + py_notes, args)
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"ns_per_call": {f"{w}/{c}": v for (w, c), v in sorted(results.items())},
             "extra": extra, "versions": versions(), "cpu": cpu_model()}, indent=2) + "\n")
    if args.png:
        chart(results, Path(args.png), f"{cpu_model()}, one run; medians of "
              f"{args.repetitions} repetitions")
        print(f"compare.py: chart written to {args.png}", file=sys.stderr)
    print(f"compare.py: measured in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
