"""Execute course notebooks top to bottom and time them: how the committed notebooks are made.

    python -m benchmarks.notebook_times                       # every notebook, full mode, in place
    python -m benchmarks.notebook_times 07 13 --quick --no-save   # two notebooks, quick, timed only

Each notebook runs in a fresh kernel (``jupyter nbconvert --execute``, as a teacher would run it),
with ``AELIB_QUICK`` unset (full mode) or ``=1`` (``--quick``), and the executed notebook is
written back in place unless ``--no-save``. The wall times go to
``benchmarks/notebook_times.json`` (merged with earlier runs, per notebook and mode), from which
the README's course index quotes them. Time them on an otherwise idle machine.
"""

import argparse
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TIMES = Path(__file__).with_name("notebook_times.json")


def run(path, quick, save, timeout):
    env = {k: v for k, v in os.environ.items() if k != "AELIB_QUICK"}
    if quick:
        env["AELIB_QUICK"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        f"--ExecutePreprocessor.timeout={timeout}",
    ]
    cmd += ["--inplace"] if save else ["--output-dir", "/tmp", "--output", f"{path.stem}.executed"]
    start = time.perf_counter()
    proc = subprocess.run(cmd + [str(path)], env=env, capture_output=True, text=True, cwd=NOTEBOOKS)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{path.name} failed after {seconds:.0f} s:\n{proc.stderr[-4000:]}")
    return seconds


def record(stem, mode, seconds):
    """Merge one time into notebook_times.json under a file lock (several runs may finish at once)."""
    with open(TIMES.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
        entry = times.setdefault(stem, {})
        entry[mode] = round(seconds, 1)
        entry["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
        TIMES.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebook_times", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="number prefixes (07) or names; default: all")
    parser.add_argument("--quick", action="store_true", help="AELIB_QUICK=1 instead of full mode")
    parser.add_argument("--no-save", action="store_true", help="do not write the executed notebook back")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        paths = [p for p in paths if any(p.name.startswith(n) or p.stem == n for n in args.notebooks)]
    mode = "quick" if args.quick else "full"
    for path in paths:
        load = os.getloadavg()[0]
        seconds = run(path, args.quick, save=not args.no_save, timeout=args.timeout)
        print(f"{path.name}: {seconds:.0f} s ({mode}, load average {load:.1f} at the start)", flush=True)
        record(path.stem, mode, seconds)
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    full = [v["full"] for v in times.values() if "full" in v]
    if full:
        print(f"full mode: {len(full)} notebooks, {sum(full) / 60:.1f} min in all, longest {max(full) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
