#!/usr/bin/env python3
"""Ratios and goals from the JSON output of bench_memory, bench_sqlite, bench_files, bench_ucache,
bench_acache and bench_policies.

    bench_memory --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \\
                 --benchmark_min_time=0.2 --benchmark_format=json > bench.json
    scripts/bench_ratios.py bench.json          # or: ... | scripts/bench_ratios.py
    bench_policies --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \\
                   --benchmark_format=json > p.json; scripts/bench_ratios.py p.json

Uses the median of repeated runs when the file has aggregates, else the single runs. Given
several files (the same benchmarks run in separate processes), every figure is the median across
them, and the paired ratios show their range: a process's ratio depends on where its tables and
nodes landed in physical memory, so one process cannot settle a goal of a few per cent. Prints
Markdown tables: each benchmark's ns/op and its ratio to its baseline, with each goal marked met
or missed. Exit status: 0 when every goal is met, 1 when one is missed, 2 on bad input.

Pairing (by benchmark name):
  hit/<key>/mcache/<policy>/<safety>  vs  hit/<key>/raw_flat_map/* (the fastest raw find, the
                                          owned_key variant excepted)
                                      and hit/<key>/classic_lru/<safety>
  miss/<key>/mcache/<policy>/<safety> vs  miss/<key>/classic_lru/<safety>
  mt/.../threads:2                    vs  the same benchmark's threads:1 (items per second)
  mt/zipf<N>/<policy>/.../threads:2   vs  its threads:1 (bench_policies: a shared thread-safe
                                          mcache, Zipf keys hitting ~N %; the goal only for
                                          zipf90 and the default policy, DEFAULT_POLICY below,
                                          the others are informational; the hit ratio reached
                                          is shown)
  floor/int/<policy>                  vs  the fastest hit/int/raw_flat_map/*, and mcache's hits of
                                          that policy vs the floor (bench_memory: a raw find plus
                                          the policy's own update; informational, no goal)
  big/int/mcache/<policy>/safe        vs  big/int/raw_flat_map/* (bench_memory: hits over 1,000,000
                                          keys; informational, no goal)
  memory/int_int/1M/<policy>          live heap bytes per entry of 1,000,000 int -> int entries
                                          (bench_policies' counters); the goal only for the
                                          default policy
  sqlite/<path>/<variant>             vs  sqlite/<path>/raw (bench_sqlite; only the `bcache`
                                          variant has a goal, the others are informational)
  files/<path>/<variant>              vs  files/<path>/raw (bench_files; only `fcache` has a goal)
  ucache/<path>/ucache                vs  ucache/<path>/direct (bench_ucache: the engine ucache
                                          chose, through its own factory; goals on the hits of
                                          the engines ucache picks by itself, the
                                          hit_*_preferred_* and miss_* paths are informational)
  ucache_paired/<path>                counter `ratio`: ucache / direct over alternating rounds
                                          of one pass each (bench_ucache; same goal as ucache/);
                                          ucache_paired/aa_* is the method's control (mcache
                                          against mcache) and must read 1 +- 0.02
  redis/<path>/engine, memcached/...   vs  .../<path>/raw (bench_networked: the raw client
                                          library; goal on redis/hit only)
  tiered/hit/tiered                   vs  tiered/hit/mcache (bench_networked)
  acache/hit/<variant>                vs  acache/hit/mcache (bench_acache; only task_sync_wait,
                                          the task<T> hit through sync_wait, has a goal)
                                          All three in wall-clock and in CPU time: disk writes make
                                          the wall clock of a write noisy, so a goal is met only
                                          when both ratios meet it
Goals: safe hit <= 2.0x raw; unsafe hit <= 1.3x raw; hit <= 0.5x classic LRU (2x faster);
miss <= 1.5x classic LRU; 2 threads >= 1.6x one thread's throughput; bcache hit <= 1.3x and
bcache miss+insert <= 1.5x the raw SQLite statements; fcache hit of 8 MB <= 1.4x one read();
ucache hit <= 1.05x the engine it chose; acache task<T> hit <= 3x the mcache hit; redis hit
<= 1.2x a raw hiredis GET; tiered hit <= 1.2x the mcache hit; for the default
policy, 2 threads >= 1.6x one thread on the 90 % hit Zipf workload and <= 40 bytes per int -> int
entry beyond its key and value.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys

GOAL_SAFE_VS_RAW = 2.0
GOAL_UNSAFE_VS_RAW = 1.3
GOAL_HIT_VS_CLASSIC = 0.5
GOAL_MISS_VS_CLASSIC = 1.5
GOAL_THREAD_SCALING = 1.6
# bench_sqlite: sqlite/<path>/bcache against sqlite/<path>/raw.
GOAL_SQLITE_VS_RAW = {"hit": 1.3, "miss_insert": 1.5}
# bench_files: files/<path>/fcache against files/<path>/raw.
GOAL_FILES_VS_RAW = {"hit_8MB": 1.4}
# bench_ucache: ucache/<path>/ucache against ucache/<path>/direct.
GOAL_UCACHE_VS_DIRECT = 1.05
# ucache_paired/aa_*: two identical mcaches paired; the method holds when it reads 1.00x.
PAIRED_CONTROL_TOLERANCE = 0.02
GOAL_ACACHE_TASK_VS_MCACHE = 3.0  # acache task<T> hit through sync_wait vs the mcache hit
# bench_networked: redis/hit/engine against a raw hiredis GET; tiered/hit/tiered against mcache.
GOAL_REDIS_VS_RAW = {"hit": 1.2}
GOAL_TIERED_VS_MCACHE = {"hit": 1.2}

TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Fields of a Google Benchmark JSON run that are not user counters.
STANDARD_FIELDS = {"name", "run_name", "run_type", "repetitions", "repetition_index", "threads",
                   "iterations", "real_time", "cpu_time", "time_unit", "items_per_second",
                   "bytes_per_second", "family_index", "per_family_instance_index",
                   "aggregate_name", "aggregate_unit", "error_occurred", "error_message"}


def load_medians(data: dict) -> dict[str, dict]:
    """name -> {"ns": real ns/op, "items_per_second": float|None} (medians when aggregated)."""
    runs = data.get("benchmarks", [])
    aggregated = any(r.get("run_type") == "aggregate" for r in runs)
    out: dict[str, dict] = {}
    for r in runs:
        if aggregated:
            if r.get("run_type") != "aggregate" or r.get("aggregate_name") != "median":
                continue
        elif r.get("run_type", "iteration") != "iteration":
            continue
        if r.get("error_occurred"):
            out[r.get("run_name", r["name"])] = {"ns": None, "items_per_second": None,
                                                 "error": r.get("error_message", "error")}
            continue
        name = r.get("run_name", r["name"])
        scale = TIME_UNIT_NS[r.get("time_unit", "ns")]
        out[name] = {"ns": r["real_time"] * scale, "cpu_ns": r.get("cpu_time", 0.0) * scale,
                     "items_per_second": r.get("items_per_second"),
                     # user counters (hit_ratio, bytes_per_entry, ...) sit beside the fields
                     "counters": {k: v for k, v in r.items() if k not in STANDARD_FIELDS
                                  and isinstance(v, (int, float)) and not isinstance(v, bool)}}
    return out


def merge_processes(per_file: list[dict[str, dict]]) -> dict[str, dict]:
    """One result per benchmark name from several processes' results: the median of each figure
    over the processes where it ran; each counter's values kept in counters_all."""
    out: dict[str, dict] = {}
    names = sorted({n for m in per_file for n in m})
    for name in names:
        ran = [m[name] for m in per_file if name in m and m[name]["ns"] is not None]
        if not ran:
            failed = next(m[name] for m in per_file if name in m)
            out[name] = dict(failed)
            continue
        merged: dict = {"processes": len(ran)}
        for field in ("ns", "cpu_ns", "items_per_second"):
            vals = [r[field] for r in ran if r.get(field) is not None]
            merged[field] = statistics.median(vals) if vals else None
        keys = {k for r in ran for k in r.get("counters", {})}
        merged["counters"] = {}
        merged["counters_all"] = {}
        for k in keys:
            vals = [r["counters"][k] for r in ran if k in r.get("counters", {})]
            merged["counters"][k] = statistics.median(vals)
            merged["counters_all"][k] = vals
        out[name] = merged
    return out


def fmt_ns(v: float | None) -> str:
    return "—" if v is None else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")


def fmt_ratio(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}x"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "**missed**")


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.missed: list[str] = []
        self.met = 0

    def goal(self, name: str, what: str, value: float | None, ok: bool | None) -> str:
        if ok is None:
            return ""
        if ok:
            self.met += 1
        else:
            self.missed.append(f"{name}: {what} = {fmt_ratio(value)}")
        return verdict(ok)


def hit_section(m: dict[str, dict], rep: Report) -> None:
    if not any(n.startswith("hit/") for n in m):
        return
    keys = sorted({n.split("/")[1] for n in m if n.startswith("hit/")},
                  key=lambda k: ["int", "string", "tuple3"].index(k)
                  if k in ["int", "string", "tuple3"] else 99)
    rep.lines += ["## Hit path (ns per call, median)", "",
                  "| benchmark | ns/op | vs raw flat map | goal | vs classic LRU | goal (<= 0.50x) |",
                  "|---|---:|---:|---|---:|---|"]
    for key in keys:
        prefix = f"hit/{key}/"
        raws = {n: v for n, v in m.items() if n.startswith(prefix + "raw_flat_map")
                and v["ns"] is not None and not n.endswith("owned_key")}
        base_name = min(raws, key=lambda n: raws[n]["ns"]) if raws else None
        base = raws[base_name]["ns"] if base_name else None
        for name in sorted((n for n in m if n.startswith(prefix)), key=lambda n: order_key(n)):
            v = m[name]
            if v["ns"] is None:
                rep.lines.append(f"| `{name}` | error: {v.get('error')} | | | | |")
                rep.missed.append(f"{name}: did not run ({v.get('error')})")
                continue
            parts = name.split("/")
            r_raw = ratio(v["ns"], base)
            raw_cell = "baseline" if name == base_name else fmt_ratio(r_raw)
            goal_raw = goal_classic = ""
            r_cls = None
            if parts[2] == "mcache":
                safety = parts[4]
                limit = GOAL_SAFE_VS_RAW if safety == "safe" else GOAL_UNSAFE_VS_RAW
                ok = None if r_raw is None else r_raw <= limit
                goal_raw = (f"<= {limit:.1f}x " + rep.goal(name, f"vs raw (<= {limit}x)", r_raw, ok)
                            ).strip()
                cls = m.get(f"hit/{key}/classic_lru/{safety}")
                if cls and cls["ns"] is not None:
                    r_cls = ratio(v["ns"], cls["ns"])
                    goal_classic = rep.goal(name, "vs classic LRU (<= 0.5x)", r_cls,
                                            r_cls <= GOAL_HIT_VS_CLASSIC)
            rep.lines.append(f"| `{name}` | {fmt_ns(v['ns'])} | {raw_cell} | {goal_raw} | "
                             f"{fmt_ratio(r_cls)} | {goal_classic} |")
    rep.lines.append("")


def big_section(m: dict[str, dict]) -> list[str]:
    names = [n for n in m if n.startswith("big/")]
    if not names:
        return []
    raws = {n: m[n]["ns"] for n in names if "/raw_flat_map/" in n and m[n]["ns"] is not None}
    base_name = min(raws, key=raws.get) if raws else None
    lines = ["## Hits in a big cache (1,000,000 int keys; ns per call, median; no goal)", "",
             "| benchmark | ns/op | vs raw flat map |", "|---|---:|---:|"]
    for name in sorted(names, key=order_key):
        v = m[name]["ns"]
        if v is None:
            lines.append(f"| `{name}` | error: {m[name].get('error')} | |")
            continue
        cell = "baseline" if name == base_name else fmt_ratio(
            ratio(v, raws[base_name]) if base_name else None)
        lines.append(f"| `{name}` | {fmt_ns(v)} | {cell} |")
    return lines + [""]


def floor_section(m: dict[str, dict]) -> list[str]:
    names = sorted((n for n in m if n.startswith("floor/int/")), key=lambda n: policy_order(
        n.split("/")[2]))
    if not names:
        return []
    raws = {n: m[n]["ns"] for n in m if n.startswith("hit/int/raw_flat_map")
            and not n.endswith("owned_key") and m[n]["ns"] is not None}
    raw = min(raws.values()) if raws else None
    lines = ["## Floors: a raw find plus the policy's own update (int keys; ns per call, median; "
             "no goal)", "",
             "| policy | floor | floor vs raw find | mcache unsafe | vs floor | mcache safe "
             "| vs floor |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name in names:
        policy = name.split("/")[2]
        floor = m[name]["ns"]
        cells = [f"`{policy}`", fmt_ns(floor), fmt_ratio(ratio(floor, raw))]
        for safety in ("unsafe", "safe"):
            hit = m.get(f"hit/int/mcache/{policy}/{safety}", {}).get("ns")
            cells += [fmt_ns(hit), fmt_ratio(ratio(hit, floor))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def miss_section(m: dict[str, dict], rep: Report) -> None:
    names = [n for n in m if n.startswith("miss/")]
    if not names:
        return
    rep.lines += ["## Miss with eviction (ns per call, median; maxsize 1,000, new key every call)",
                  "", "| benchmark | ns/op | vs classic LRU | goal (<= 1.50x) |", "|---|---:|---:|---|"]
    for name in sorted(names, key=order_key):
        v = m[name]
        if v["ns"] is None:
            rep.lines.append(f"| `{name}` | error: {v.get('error')} | | |")
            rep.missed.append(f"{name}: did not run ({v.get('error')})")
            continue
        parts = name.split("/")
        cell, goal = "—", ""
        if parts[2] == "classic_lru":
            cell = "baseline"
        elif parts[2] == "mcache":
            safety = parts[4]
            informational = safety not in ("safe", "unsafe")
            safety = "safe" if safety.startswith("safe") else "unsafe"
            cls = m.get(f"miss/{parts[1]}/classic_lru/{safety}")
            if cls and cls["ns"] is not None:
                r = ratio(v["ns"], cls["ns"])
                cell = fmt_ratio(r)
                goal = "(info)" if informational else rep.goal(
                    name, "vs classic LRU (<= 1.5x)", r, r <= GOAL_MISS_VS_CLASSIC)
        rep.lines.append(f"| `{name}` | {fmt_ns(v['ns'])} | {cell} | {goal} |")
    rep.lines.append("")


THREADS_RE = re.compile(r"^(?P<base>.*?)(?:/real_time)?/threads:(?P<n>\d+)$")


def thread_section(m: dict[str, dict], rep: Report) -> None:
    groups: dict[str, dict[int, dict]] = {}
    for name, v in m.items():
        mt = THREADS_RE.match(name)
        if mt and name.startswith("mt/") and not ZIPF_RE.match(name):
            groups.setdefault(mt.group("base"), {})[int(mt.group("n"))] = v
    if not groups:
        return
    rep.lines += ["## Hit throughput, one shared object (items/s, median, wall clock)", "",
                  "| benchmark | 1 thread | 2 threads | 2 vs 1 | goal (>= 1.60x) |",
                  "|---|---:|---:|---:|---|"]
    for base in sorted(groups, key=order_key):
        g = groups[base]
        one, two = g.get(1, {}), g.get(2, {})
        a, b = one.get("items_per_second"), two.get("items_per_second")
        r = ratio(b, a)
        goal = ""
        parts = base.split("/")
        if len(parts) > 3 and parts[3] == "mcache" and r is not None:
            goal = rep.goal(base, "2 threads vs 1 (>= 1.6x)", r, r >= GOAL_THREAD_SCALING)
        rep.lines.append(f"| `{base}` | {fmt_ips(a)} | {fmt_ips(b)} | {fmt_ratio(r)} | {goal} |")
    rep.lines.append("")


# ---- bench_policies ----------------------------------------------------------------------------
# The default policy of mcache/ucache (options.hpp): the only one the two goals below apply to.
# Change it here when the default changes.
DEFAULT_POLICY = "s3fifo"  # twat_cache::default_policy (options.hpp)
GOAL_POLICY_THREAD_SCALING = GOAL_THREAD_SCALING  # 2 threads vs 1, Zipf 90 % hits
GOAL_OVERHEAD_PER_ENTRY = 40.0  # bytes per int -> int entry beyond its 8 bytes of key and value
# mt/<workload>/<policy>: zipf90 (~90 % hits) has the goal; zipf999 (~99.9 %) and zipf100 (all
# hits) are informational.
# zipf90_1us memoizes a function of ~1 us; limit_private, limit_shared and limit_featured are the
# baselines of bench_policies (each thread its own cache; the least a shared cache can do; the
# same with s3fifo-like counters and single flight's registration).
ZIPF_RE = re.compile(r"^mt/(?P<workload>zipf\d+(?:_\w+)?)/(?P<policy>[^/]+)/")
LIMITS = {"limit_private": 1, "limit_shared": 2, "limit_featured": 3}
ZIPF_GOAL_WORKLOAD = "zipf90"
MEMORY_PREFIX = "memory/int_int/1M/"


def policy_order(p: str) -> tuple:
    return (LIMITS.get(p, 0), p != DEFAULT_POLICY, POLICY_ORDER.get(p, 9), p)


def fmt_bytes(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def zipf_section(m: dict[str, dict], rep: Report) -> None:
    groups: dict[tuple[str, str], dict[int, dict]] = {}
    for name, v in m.items():
        mt, mz = THREADS_RE.match(name), ZIPF_RE.match(name)
        if mt and mz:
            key = (mz.group("workload"), mz.group("policy"))
            groups.setdefault(key, {})[int(mt.group("n"))] = v
    if not groups:
        return
    rep.lines += ["## Policies: one shared thread-safe mcache, Zipf keys (items/s, median, wall "
                  "clock; zipf90 hits ~90 %, zipf999 ~99.9 %, zipf100 all)", "",
                  f"| benchmark | hit ratio (1 / 2 threads) | 1 thread | 2 threads | 2 vs 1 | "
                  f"goal (>= {GOAL_POLICY_THREAD_SCALING:.2f}x, {ZIPF_GOAL_WORKLOAD}/"
                  f"{DEFAULT_POLICY}) |",
                  "|---|---:|---:|---:|---:|---|"]
    for workload, policy in sorted(groups, key=lambda k: (k[0] != ZIPF_GOAL_WORKLOAD, k[0],
                                                          policy_order(k[1]))):
        g = groups[(workload, policy)]
        one, two = g.get(1, {}), g.get(2, {})
        base = f"mt/{workload}/{policy}"
        label = f"`{base}`" + (" (default)" if policy == DEFAULT_POLICY else
                               " (baseline)" if policy in LIMITS else "")
        errors = [x.get("error") for x in (one, two) if x.get("error")]
        if errors:
            rep.lines.append(f"| {label} | error: {errors[0]} | | | | |")
            rep.missed.append(f"{base}: did not run ({errors[0]})")
            continue
        a, b = one.get("items_per_second"), two.get("items_per_second")
        r = ratio(b, a)
        hits = " / ".join("—" if x.get("counters", {}).get("hit_ratio") is None
                          else f"{x['counters']['hit_ratio']:.3f}" for x in (one, two))
        goal = "(info)"
        if workload == ZIPF_GOAL_WORKLOAD and policy == DEFAULT_POLICY and r is not None:
            goal = rep.goal(base, f"2 threads vs 1 (>= {GOAL_POLICY_THREAD_SCALING}x)", r,
                            r >= GOAL_POLICY_THREAD_SCALING)
        rep.lines.append(f"| {label} | {hits} | {fmt_ips(a)} | {fmt_ips(b)} | {fmt_ratio(r)} | "
                         f"{goal} |")
    if (ZIPF_GOAL_WORKLOAD, DEFAULT_POLICY) not in groups:
        rep.lines.append(f"\n(mt/{ZIPF_GOAL_WORKLOAD}/{DEFAULT_POLICY}, the default policy, is not "
                         "in this run: no goal checked.)")
    rep.lines.append("")


def memory_section(m: dict[str, dict], rep: Report) -> None:
    names = [n for n in m if n.startswith(MEMORY_PREFIX)]
    if not names:
        return
    rep.lines += ["## Policies: memory per entry, int -> int, 1,000,000 entries "
                  "(live heap bytes / entries)", "",
                  f"| policy | bytes/entry | overhead/entry | of which hash table | peak/entry | "
                  f"goal (overhead <= {GOAL_OVERHEAD_PER_ENTRY:g} B, {DEFAULT_POLICY}) |",
                  "|---|---:|---:|---:|---:|---|"]
    policies = {n[len(MEMORY_PREFIX):].split("/")[0]: n for n in names}
    for policy in sorted(policies, key=policy_order):
        v = m[policies[policy]]
        label = f"`{policy}` (default)" if policy == DEFAULT_POLICY else f"`{policy}`"
        if v["ns"] is None:
            rep.lines.append(f"| {label} | error: {v.get('error')} | | | | |")
            rep.missed.append(f"{MEMORY_PREFIX}{policy}: did not run ({v.get('error')})")
            continue
        c = v.get("counters", {})
        over = c.get("overhead_per_entry")
        goal = "(info)"
        if policy == DEFAULT_POLICY and over is not None:
            ok = over <= GOAL_OVERHEAD_PER_ENTRY
            goal = verdict(ok)
            if ok:
                rep.met += 1
            else:
                rep.missed.append(f"{MEMORY_PREFIX}{policy}: overhead per entry = {over:.1f} B "
                                  f"(<= {GOAL_OVERHEAD_PER_ENTRY:g} B)")
        rep.lines.append(f"| {label} | {fmt_bytes(c.get('bytes_per_entry'))} | {fmt_bytes(over)} | "
                         f"{fmt_bytes(c.get('hash_table_per_entry'))} | "
                         f"{fmt_bytes(c.get('peak_bytes_per_entry'))} | {goal} |")
    if DEFAULT_POLICY not in policies:
        rep.lines.append(f"\n(The default policy, {DEFAULT_POLICY}, is not in this run: "
                         "no goal checked.)")
    rep.lines.append("")


def versus_raw_order_key(name: str) -> tuple:
    """The baseline, raw variants (raw_with_* first), the library's variant, then its variants."""
    v = name.split("/")[2]
    return ([v in BASELINES.values(), v.startswith("raw_with"), v.startswith("raw"),
             v in SUBJECTS.values(), True].index(True), v)


# <prefix>/<path>/<variant> against <prefix>/<path>/<baseline>: the baseline, the variant measured
# against a goal, the goal of a path (None: informational), and the section title.
BASELINES = {"sqlite": "raw", "files": "raw", "ucache": "direct", "acache": "mcache",
             "redis": "raw", "memcached": "raw", "tiered": "mcache"}
SUBJECTS = {"sqlite": "bcache", "files": "fcache", "ucache": "ucache",
            "acache": "task_sync_wait", "redis": "engine", "memcached": "engine",
            "tiered": "tiered"}
GOALS_VS_RAW = {
    "sqlite": GOAL_SQLITE_VS_RAW.get,
    "files": GOAL_FILES_VS_RAW.get,
    "ucache": lambda path: (GOAL_UCACHE_VS_DIRECT
                            if path.startswith("hit_") and "_preferred_" not in path else None),
    "acache": lambda path: GOAL_ACACHE_TASK_VS_MCACHE if path == "hit" else None,
    "redis": GOAL_REDIS_VS_RAW.get,
    "memcached": lambda path: None,
    "tiered": GOAL_TIERED_VS_MCACHE.get,
}
TITLES = {"sqlite": "bcache (SQLite) against raw SQLite", "files": "fcache (files) against read()",
          "ucache": "ucache against the engine it chose, used directly",
          "acache": "acache hits against the mcache hit",
          "redis": "redis engine against raw hiredis", "memcached":
          "memcached engine against raw libmemcached", "tiered": "tiered hit against mcache"}


def versus_raw_section(prefix: str, m: dict[str, dict], rep: Report) -> None:
    """bench_sqlite / bench_files / bench_ucache: each <prefix>/<path>/<variant> against
    <prefix>/<path>/<baseline>, in wall clock and CPU time; a goal counts as met only when both
    meet it."""
    names = [n for n in m if n.startswith(prefix + "/") and len(n.split("/")) == 3]
    if not names:
        return
    goal_of = GOALS_VS_RAW[prefix]
    subject = SUBJECTS[prefix]
    baseline = BASELINES[prefix]
    rep.lines += [f"## {TITLES[prefix]} (ns per call, median)", "",
                  f"| benchmark | ns/op | CPU ns/op | vs {baseline} | vs {baseline}, CPU | goal |",
                  "|---|---:|---:|---:|---:|---|"]
    paths = sorted({n.split("/")[1] for n in names},
                   key=lambda p: (goal_of(p) is None, p))
    for path in paths:
        base = m.get(f"{prefix}/{path}/{baseline}")
        base_ns = base["ns"] if base else None
        base_cpu = base.get("cpu_ns") if base else None
        group = [n for n in names if n.split("/")[1] == path]
        for name in sorted(group, key=versus_raw_order_key):
            v = m[name]
            if v["ns"] is None:
                rep.lines.append(f"| `{name}` | error: {v.get('error')} | | | | |")
                rep.missed.append(f"{name}: did not run ({v.get('error')})")
                continue
            variant = name.split("/")[2]
            r = ratio(v["ns"], base_ns)
            r_cpu = ratio(v.get("cpu_ns"), base_cpu)
            cell = "baseline" if variant == baseline else fmt_ratio(r)
            cell_cpu = "baseline" if variant == baseline else fmt_ratio(r_cpu)
            goal = ""
            limit = goal_of(path)
            if variant == subject and limit is not None and r is not None:
                worst = r if r_cpu is None else max(r, r_cpu)
                goal = (f"<= {limit:g}x " + rep.goal(
                    name, f"vs {baseline}, wall clock and CPU (<= {limit}x)", worst,
                    worst <= limit)).strip()
            elif variant != baseline:
                goal = "(info)"
            rep.lines.append(f"| `{name}` | {fmt_ns(v['ns'])} | {fmt_ns(v.get('cpu_ns'))} | "
                             f"{cell} | {cell_cpu} | {goal} |")
    rep.lines.append("")


def paired_section(m: dict[str, dict], rep: Report) -> None:
    """bench_ucache's ucache_paired/<path>: its counter `ratio` (ucache / direct, the median of
    alternating rounds), against the ucache goal."""
    names = sorted(n for n in m if n.startswith("ucache_paired/"))
    if not names:
        return
    rep.lines += ["## ucache against the engine it chose, paired rounds (median of the rounds)", "",
                  "| benchmark | direct ns/call | ucache ns/call | ucache / direct | range over processes | goal |",
                  "|---|---:|---:|---:|---|---|"]
    for name in names:
        v = m[name]
        if v["ns"] is None:
            rep.lines.append(f"| `{name}` | error: {v.get('error')} | | | | |")
            rep.missed.append(f"{name}: did not run ({v.get('error')})")
            continue
        c = v.get("counters", {})
        r = c.get("ratio")
        # The control pairs identical code: a method that reads it as different is not trusted.
        control = name.startswith("ucache_paired/aa_")
        if control:
            meets = lambda x: abs(x - 1.0) <= PAIRED_CONTROL_TOLERANCE  # noqa: E731
            target = f"within {PAIRED_CONTROL_TOLERANCE:g} of 1"
            what = f"the paired method's control ({target})"
        else:
            meets = lambda x: x <= GOAL_UCACHE_VS_DIRECT  # noqa: E731
            target = f"<= {GOAL_UCACHE_VS_DIRECT:g}x"
            what = f"ucache / direct ({target})"
        goal = "" if r is None else f"{target} {rep.goal(name, what, r, meets(r))}".strip()
        every = v.get("counters_all", {}).get("ratio")
        spread = "one process" if not every else (
            f"{min(every):.3f}–{max(every):.3f}; {sum(meets(x) for x in every)} of {len(every)} "
            f"processes {target}")
        rep.lines.append(f"| `{name}` | {fmt_ns(c.get('baseline_ns'))} | {fmt_ns(c.get('subject_ns'))} "
                         f"| {r:.3f}x | {spread} | {goal} |" if r is not None else
                         f"| `{name}` | | | — | | |")
    rep.lines.append("")


def fmt_ips(v: float | None) -> str:
    return "—" if v is None else f"{v / 1e6:.1f} M/s"


POLICY_ORDER = {"lru": 0, "lfu": 1, "fifo": 2, "rr": 3, "s3fifo": 4, "tinylfu": 5}
KIND_ORDER = {"raw_flat_map": 0, "classic_lru": 1, "mcache": 2}


def order_key(name: str):
    """Raw maps, then the classic LRU, then mcache: safe before unsafe, policies in doc order."""
    parts = name.split("/")
    if parts[0] == "mt":
        parts = parts[1:]
    kind = parts[2] if len(parts) > 2 else ""
    rest = parts[3:]
    if kind == "mcache" and len(rest) >= 2:
        return (KIND_ORDER[kind], {"safe": 0, "unsafe": 1}.get(rest[1], 2),
                POLICY_ORDER.get(rest[0], 9), name)
    return (KIND_ORDER.get(kind, 9), 0, 0, name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="*",
                    help="benchmark JSON files, one per process (default: stdin)")
    args = ap.parse_args()
    files: list[dict] = []
    try:
        for text in ([open(f, encoding="utf-8").read() for f in args.json] if args.json
                     else [sys.stdin.read()]):
            # Google Benchmark prints console lines before the JSON when stdout and the JSON go
            # to one stream by mistake; start at the first brace.
            files.append(json.loads(text[text.index("{"):]))
    except (OSError, ValueError) as e:
        print(f"bench_ratios: cannot read benchmark JSON: {e}", file=sys.stderr)
        return 2
    data = files[0]
    per_file = [load_medians(d) for d in files]
    m = per_file[0] if len(per_file) == 1 else merge_processes(per_file)
    if not m:
        print("bench_ratios: no benchmark results in the input", file=sys.stderr)
        return 2
    rep = Report()
    ctx = data.get("context", {})
    agg = "medians of repetitions" if any(
        r.get("run_type") == "aggregate" for r in data.get("benchmarks", [])) else "single runs"
    across = "" if len(files) == 1 else f", the median of {len(files)} processes"
    rep.lines += [f"Host {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs at "
                  f"{ctx.get('mhz_per_cpu', '?')} MHz, {agg}{across}.", ""]
    hit_section(m, rep)
    rep.lines += floor_section(m)
    rep.lines += big_section(m)
    miss_section(m, rep)
    thread_section(m, rep)
    zipf_section(m, rep)
    memory_section(m, rep)
    versus_raw_section("sqlite", m, rep)
    versus_raw_section("files", m, rep)
    versus_raw_section("ucache", m, rep)
    paired_section(m, rep)
    versus_raw_section("acache", m, rep)
    versus_raw_section("redis", m, rep)
    versus_raw_section("memcached", m, rep)
    versus_raw_section("tiered", m, rep)
    rep.lines.append(f"Goals met: {rep.met}; missed: {len(rep.missed)}.")
    for line in rep.missed:
        rep.lines.append(f"- missed: {line}")
    print("\n".join(rep.lines))
    return 1 if rep.missed else 0


if __name__ == "__main__":
    sys.exit(main())
