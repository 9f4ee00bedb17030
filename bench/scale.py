"""The main job at growing sizes: seconds, rows/s and peak memory per stage, and growth.

Usage::

    .venv/bin/python bench/scale.py [--sizes 1000000,3000000,10000000] [--epinions]
        [--epochs 2] [--json-out bench/results/scale.json] [--png docs/scale.png] [--keep]

For each synthetic size (purchases drawn; users = size/20, items = size/10) and, with
``--epinions``, for Epinions, runs ``interestgraph pipeline --format json`` in a child
process with its own server home (``.bench/scale/<name>``, fresh; ports 28687/28474 and
up — never your graph), then stops that server and deletes the home unless ``--keep``.
From the job's own per-stage figures it prints and writes:

* seconds, rows and rows/s per stage (each stage's unit is in the table);
* peak RSS per stage of the Python process (``/proc/self/status`` VmHWM, reset at each
  stage) and of the Neo4j JVM (same, for its PID), and the store size on disk;
* the growth ratio of every stage between consecutive sizes: (time ratio) / (purchases
  ratio) — 1.0 is linear, 2.0 at 10× the size means quadratic-ish;
* a log-log plot of stage time against purchases (``--png``).

The last line is always ``max_growth_ratio=R peak_rss_gib=M``: R is the largest growth
ratio between the two largest synthetic sizes over the stages whose time grows with the
data, M the largest Python peak over every run. ``--sizes 100000,300000 --json-out F`` is
the quick check (a few minutes).

Memory settings (documented in docs/scale.md): ``INTERESTGRAPH_HEAP`` and
``INTERESTGRAPH_PAGECACHE`` are passed through (defaults here: heap 2g, page cache 4g).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: stages whose work grows with the data (server start and the sample calls do not)
GROWING = ("ingest", "embed", "export", "train", "infer", "evaluate", "writeback")


def _du(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file():
                total += p.stat().st_size
        except OSError:
            pass
    return total / 2**30


def run_one(name: str, args: list[str], port: int, epochs: int, keep: bool) -> dict:
    """Run the main job once in a fresh home; returns its JSON plus store size and wall time."""
    home = ROOT / ".bench" / "scale" / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update(
        INTERESTGRAPH_HOME=str(home),
        INTERESTGRAPH_BOLT_PORT=str(port),
        INTERESTGRAPH_HTTP_PORT=str(port - 213),
        INTERESTGRAPH_HEAP=os.environ.get("INTERESTGRAPH_HEAP", "2g"),
        INTERESTGRAPH_PAGECACHE=os.environ.get("INTERESTGRAPH_PAGECACHE", "4g"),
    )
    cli = [sys.executable, "-c", "from interestgraph.cli import main; main()"]
    cmd = [*cli, "-q", "pipeline", *args, "--epochs", str(epochs), "--format", "json",
           "--no-progress"]  # fmt: skip
    print(f"== {name}: {' '.join(cmd[3:])}", flush=True)
    began = time.perf_counter()
    log = home / "pipeline.log"
    try:
        with open(log, "w") as err:
            proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{name}: the pipeline failed (exit {proc.returncode}):\n{tail}")
        out = json.loads(proc.stdout)
        out["wall_seconds"] = round(wall, 1)
        out["store_gib"] = round(_du(home / "neo4j" / "data"), 2)
        out["home_gib"] = round(_du(home), 2)
    finally:
        subprocess.run([*cli, "-q", "neo4j", "stop"], env=env, capture_output=True)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
    return out


def stage_rows(name: str, out: dict) -> list[dict]:
    """One row per stage: seconds, rows, rows/s, peak memory."""
    rows = []
    for stage, secs in out["seconds"].items():
        n = out["rows"].get(stage)
        mem = out["memory"].get(stage, {})
        rows.append(
            {
                "run": name,
                "purchases": out.get("PURCHASED", 0),
                "stage": stage,
                "seconds": secs,
                "rows": n,
                "unit": out["units"].get(stage, ""),
                "rows_per_s": round(n / secs) if n and secs else None,
                "python_peak_gib": mem.get("python_peak_gib"),
                "neo4j_peak_gib": mem.get("neo4j_peak_gib"),
            }
        )
    return rows


def growth(runs: list[tuple[str, dict]]) -> list[dict]:
    """Per stage and pair of consecutive runs: (time ratio) / (purchases ratio)."""
    out = []
    for (a, ra), (b, rb) in itertools.pairwise(runs):
        size_ratio = rb["PURCHASED"] / ra["PURCHASED"]
        for stage in rb["seconds"]:
            ta, tb = ra["seconds"].get(stage), rb["seconds"][stage]
            if not ta:
                continue
            out.append(
                {
                    "from": a,
                    "to": b,
                    "stage": stage,
                    "size_ratio": round(size_ratio, 2),
                    "time_ratio": round(tb / ta, 2),
                    "growth_ratio": round((tb / ta) / size_ratio, 2),
                }
            )
    return out


def plot(runs: list[tuple[str, dict]], path: Path) -> None:
    """Stage time vs purchases, log-log, one line per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    sizes = [r["PURCHASED"] for _, r in runs]
    for stage in GROWING:
        times = [r["seconds"].get(stage) for _, r in runs]
        if all(times):
            ax.plot(sizes, times, marker="o", label=stage)
    lo, hi = min(sizes), max(sizes)
    ref = max((r["seconds"]["train"] for _, r in runs[:1]), default=1.0)
    ax.plot([lo, hi], [ref, ref * hi / lo], "k--", lw=0.8, label="linear (from train)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("purchases (PURCHASED edges)")
    ax.set_ylabel("seconds")
    ax.set_title("interestgraph pipeline: stage time vs size (2 cores, 24 GiB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def _table(rows: list[dict], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines.append("  ".join("-" * widths[c] for c in cols))
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def main() -> None:
    """Run the scale benchmark and print the tables and the summary line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000",
                        help="synthetic purchases per run, comma-separated")  # fmt: skip
    parser.add_argument("--epinions", action="store_true", help="also run on Epinions")
    parser.add_argument("--epochs", type=int, default=2, help="epoch limit of every run")
    parser.add_argument("--json-out", type=Path, help="write the results as JSON here")
    parser.add_argument("--png", type=Path, help="write the log-log plot here")
    parser.add_argument("--keep", action="store_true", help="keep each run's server home")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    runs: list[tuple[str, dict]] = []
    for i, size in enumerate(sizes):
        name = f"synthetic-{size}"
        res = run_one(name, ["--dataset", "synthetic", "--size", str(size)], 28687 + 2 * i,
                      args.epochs, args.keep)  # fmt: skip
        runs.append((name, res))
        cols = [
            "stage",
            "seconds",
            "rows",
            "unit",
            "rows_per_s",
            "python_peak_gib",
            "neo4j_peak_gib",
        ]
        print(_table(stage_rows(name, res), cols), flush=True)
    extra: list[tuple[str, dict]] = []
    if args.epinions:
        res = run_one("epinions", ["--dataset", "epinions"], 28687 + 2 * len(sizes),
                      args.epochs, args.keep)  # fmt: skip
        extra.append(("epinions", res))
    rows = [r for name, res in runs + extra for r in stage_rows(name, res)]
    grow = growth(runs)
    print()
    print(_table(rows, ["run", "purchases", "stage", "seconds", "rows_per_s", "python_peak_gib",
                        "neo4j_peak_gib"]))  # fmt: skip
    if grow:
        print()
        print(_table(grow, ["from", "to", "stage", "size_ratio", "time_ratio", "growth_ratio"]))
    metrics = [
        {"run": name, **{k: m.get(k) for k in ("model", "recall@10", "recall@20", "ndcg@20")}}
        for name, res in runs + extra
        for m in res["metrics"]
    ]
    print()
    print(_table(metrics, ["run", "model", "recall@10", "recall@20", "ndcg@20"]))
    last = [g for g in grow if g["to"] == runs[-1][0] and g["stage"] in GROWING] if grow else []
    max_growth = max((g["growth_ratio"] for g in last), default=float("nan"))
    peaks = [r["python_peak_gib"] for r in rows if r["python_peak_gib"] is not None]
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": " ".join(sys.argv),
        "epochs": args.epochs,
        "runs": {
            name: {
                k: res[k]
                for k in (
                    "seconds",
                    "memory",
                    "rows",
                    "units",
                    "notes",
                    "allocator",
                    "wall_seconds",
                    "store_gib",
                    "home_gib",
                    "PURCHASED",
                    "User",
                    "Item",
                )
                if k in res
            }
            | {"metrics": res["metrics"]}
            for name, res in runs + extra
        },
        "stages": rows,
        "growth": grow,
        "max_growth_ratio": max_growth,
        "peak_rss_gib": max(peaks, default=float("nan")),
    }
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(result, indent=2, default=str))
    if args.png and len(runs) > 1:
        plot(runs, args.png)
    print(f"max_growth_ratio={max_growth:.2f} peak_rss_gib={result['peak_rss_gib']:.2f}")


if __name__ == "__main__":
    main()
