#!/usr/bin/env python3
"""Building on Ray against building locally, side by side, through the command line the user runs:

    archivist build                                  (the encoder in the build's process)
    archivist build --ray local --ray-workers 1      (a Ray instance started for the build, 1 actor)
    archivist build --ray local --ray-workers 2

each into a fresh index of the same Wikinews articles; chunks/s end to end (Ray's start and the
actors' model loads included), and the time for 8 million chunks projected from the measured
per-worker rate. On this 2-core machine the gain cannot show: two actors share the two cores with
the build's own reading and staging.

    python bench/ray_build.py [--articles 500]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CACHE, ROOT, WIKINEWS

TARGET_CHUNKS = 8_000_000


def run(config: Path, *extra: str) -> tuple[float, dict]:
    exe = Path(sys.executable).parent / "archivist"
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), "--config", str(config), "build", "--json", *extra], capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=3600)
    took = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"build {' '.join(extra)} failed: {r.stderr[-2000:]}")
    return took, json.loads(r.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=500)
    args = ap.parse_args()
    subset = CACHE / f"ray-{args.articles}.jsonl"
    with open(WIKINEWS["path"]) as f, open(subset, "w") as out:
        for i, line in enumerate(f):
            if i >= args.articles:
                break
            out.write(line)
    rows = []
    work = Path(tempfile.mkdtemp(prefix="archivist-ray-"))
    for name, extra in (("local", ()), ("Ray, 1 worker", ("--ray", "local", "--ray-workers", "1")),
                        ("Ray, 2 workers", ("--ray", "local", "--ray-workers", "2"))):
        config = work / f"{len(rows)}.toml"
        config.write_text(f'[index]\npath = "{work / f"idx{len(rows)}"}"\n\n[[sources]]\npath = "{subset}"\n'
                          'format = "jsonl"\n')
        took, summary = run(config, *extra)
        rows.append((name, summary["chunks_embedded"], took, summary.get("encoder", "")))
    print(f"Build of {args.articles} Wikinews articles into a fresh index, one after another in one run "
          f"({os.cpu_count()} cores):")
    print(f"   {'build':<16} {'chunks':>7} {'seconds':>8} {'chunks/s':>9}   encoder")
    for name, chunks, took, encoder in rows:
        print(f"   {name:<16} {chunks:>7} {took:>8.1f} {chunks / took:>9.1f}   {encoder}")
    per_worker = rows[1][1] / rows[1][2]
    print(f"\nProjected for {TARGET_CHUNKS:,} chunks at the measured 1-worker rate ({per_worker:.1f} chunks/s per "
          "worker, assuming each worker has its own cores and the builder keeps up):")
    for k in (1, 8, 32, 128):
        hours = TARGET_CHUNKS / (per_worker * k) / 3600
        print(f"   {k:>4} workers: {hours:7.1f} h")
    print(f"command: python bench/ray_build.py --articles {args.articles}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
