#!/usr/bin/env python3
"""Wall times of two or more builds of one program, run in turns: A/B timing on a noisy machine.

    scripts/ab_time.py -n 15 ./hit_before ./hit_after
    scripts/ab_time.py -n 15 -- './bench --rounds 100' './bench_new --rounds 100'

Runs each command once, in the order given, then again, -n times in all, so a slow spell of the
machine (seconds to minutes on a shared VM) falls on every command alike rather than on the one
that happened to run then. Prints, per command, the least and the median wall time and their
ratios to the first command's. The least is what to compare: a run is only ever slowed by the
machine, never sped up, so the least of many runs is the one closest to the program's own cost.
Output goes to /dev/null; a command that fails stops the script (exit status 1). Bad arguments:
exit status 2.

Each program should run for a tenth of a second or more (a loop of a few million calls): the
process's start-up, a millisecond, then counts for little. For the same reason this measures
programs, not Google Benchmark rows; for those use bench_ratios.py over repeated processes.
"""

import argparse
import shlex
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Least and median wall time of commands run in turns.")
    parser.add_argument("-n", "--runs", type=int, default=11,
                        help="runs of each command (default 11)")
    parser.add_argument("commands", nargs="+",
                        help="commands, each one argument (quote a command with arguments)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if len(args.commands) < 2:
        parser.error("give two commands or more: the first is the baseline")

    argvs = [shlex.split(c) for c in args.commands]
    times = [[] for _ in argvs]
    for _ in range(args.runs):
        for i, argv in enumerate(argvs):
            start = time.perf_counter()
            try:
                done = subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
            except OSError as e:
                print(f"ab_time: cannot run {args.commands[i]!r}: {e}", file=sys.stderr)
                return 2
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                print(f"ab_time: {args.commands[i]!r} exited with {done.returncode}",
                      file=sys.stderr)
                return 1
            times[i].append(elapsed)

    base_least = min(times[0])
    base_median = statistics.median(times[0])
    width = max(len(c) for c in args.commands)
    print(f"{'command':<{width}}  {'least ms':>9}  {'ratio':>6}  {'median ms':>9}  {'ratio':>6}"
          f"  ({args.runs} runs each, in turns)")
    for command, t in zip(args.commands, times):
        least = min(t)
        median = statistics.median(t)
        print(f"{command:<{width}}  {least * 1e3:9.1f}  {least / base_least:6.3f}"
              f"  {median * 1e3:9.1f}  {median / base_median:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
