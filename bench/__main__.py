"""`make bench`: every benchmark in a fresh process of its own, then one table of figures.

    .venv/bin/python -m bench [--scale 0.1] [--only search,purge]

Each module prints its figures as one JSON line; this collects them. The figures and the
machine they came from go into bench/README.md by hand.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from bench.harness import BENCH_DATABASE_URL, Figure, print_table

# In the order of the issues: registration, login, search, purge, numbers, pages; renewals;
# debits; retention; the national load test; statistics.
MODULES = [
    "registration",
    "login",
    "search",
    "purge",
    "numbers",
    "pages",
    "renewals",
    "debits",
    "retention",
    "load",
    "statistics",
]


def machine() -> str:
    cpus = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "?"
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpus} cores ({model}), {memory}, {system}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BIEB_BENCH_SCALE", 1)))
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    chosen = [m for m in MODULES if not args.only or m in args.only.split(",")]
    figures: list[Figure] = []
    failed = []
    started = time.monotonic()
    print(f"Bench database: {BENCH_DATABASE_URL}   scale {args.scale}", flush=True)
    for name in chosen:
        t0 = time.monotonic()
        print(f"-- {name} ...", flush=True)
        proc = subprocess.run(  # noqa: S603 (our own modules, by name from MODULES)
            [sys.executable, "-m", f"bench.{name}", "--json", "--scale", str(args.scale)],
            stdout=subprocess.PIPE,
            text=True,
        )
        found = False
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH-JSON "):
                figures += [Figure(**f) for f in json.loads(line[len("BENCH-JSON ") :])]
                found = True
            else:
                print("   " + line, flush=True)
        if proc.returncode or not found:
            failed.append(name)
            print(f"-- {name} FAILED (exit {proc.returncode})", flush=True)
        else:
            print(f"-- {name} done in {time.monotonic() - t0:.0f} s", flush=True)
    print()
    print(f"Machine: {machine()}")
    print(f"Total time: {time.monotonic() - started:.0f} s")
    print()
    print_table(figures)
    unmet = [f for f in figures if f.met is False]
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    if unmet:
        print(f"\nGoals not met: {len(unmet)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
