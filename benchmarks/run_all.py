"""Run every benchmark in turn (each writes benchmarks/results/<name>.json).

    python benchmarks/run_all.py            # everything (an hour or more on 2 cores)
    python benchmarks/run_all.py --quick    # small sizes, to check the scripts work

The Haystack comparison is skipped when Haystack is not installed (it is an
optional benchmark dependency; see bench_haystack.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["bench_reader.py"],
    ["bench_index.py"],
    ["bench_ask.py"],
    ["bench_open_squad.py", "--sample", "2000", "--read", "500"],
    ["bench_haystack.py", "--questions", "200"],
    ["bench_haystack.py", "--corpus", "seed"],
    ["bench_load.py", "--questions", "10000"],
    ["bench_http.py", "--clients", "1", "4", "8", "--requests", "120"],
]
QUICK = [
    ["bench_reader.py", "--repeats", "5"],
    ["bench_index.py", "--sizes", "1", "100", "--runs", "1"],
    ["bench_ask.py", "--sizes", "300", "--paragraphs", "300", "--runs", "1"],
    ["bench_open_squad.py", "--sample", "100", "--read", "20"],
    ["bench_haystack.py", "--questions", "20", "--runs", "1"],
    ["bench_haystack.py", "--corpus", "seed", "--runs", "1"],
    ["bench_load.py", "--questions", "60", "--warmup", "20", "--every", "10"],
    ["bench_http.py", "--clients", "1", "4", "--requests", "8", "--batch", "8", "--warmup", "2"],
]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    failed = []
    for cmd in QUICK if args.quick else FULL:
        if cmd[0] == "bench_haystack.py" and importlib.util.find_spec("haystack") is None:
            print("skipping bench_haystack.py: Haystack is not installed")
            continue
        print(f"== {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / cmd[0]), *cmd[1:]])
        print(f"== {cmd[0]}: exit {rc} in {time.perf_counter() - t0:.0f}s", flush=True)
        if rc:
            failed.append(cmd[0])
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
