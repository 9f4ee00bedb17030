"""GAT ablations in the evaluation harness: each variant is ``GATConfig`` defaults plus overrides.

Usage::

    .venv/bin/python bench/gat_ablation.py --export DIR [--protocol random|temporal]
        --variant "default:" --variant "3 layers:layers=3" \\
        --variant "no text, small init:use_text=false,init_std=0.01" [--json OUT.json]

Every variant is trained and tested on the same split as the baselines
(``bench/baselines.py``), with early stopping on validation Recall@20; the table has the
test metrics, the epochs run, the best epoch and the training seconds. Values are parsed as
JSON (``true``, ``0.01``, ``[10,5]``), anything else is a string. ``--threads`` pins torch's
CPU threads, so two ablations can share a 2-core machine without fighting.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from interestgraph.gnn.evaluate import Harness, result_row
from interestgraph.gnn.train import GATConfig, GATRec
from interestgraph.output import render
from interestgraph.sync import load_export


def parse_variant(spec: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value,key=value"`` → (name, overrides); ``;`` separates when values
    contain commas (``"mini:fanout=[10,5];lr=0.001"``)."""
    name, _, body = spec.partition(":")
    parts = [p for p in (q.strip() for q in body.split(";" if ";" in body else ",")) if p]
    return name.strip() or "default", GATConfig.parse_overrides(parts)


def main() -> None:
    """Train every variant on one split and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument("--protocol", choices=["random", "temporal"], default="random")
    parser.add_argument("--variant", action="append", default=[], help="NAME:KEY=VALUE,...")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", type=Path, help="Append the rows to this JSON list file.")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = [parse_variant(v) for v in args.variant or ["default:"]]
    data, _, _ = load_export(args.export)
    harness = Harness(data, args.protocol)
    rows = []
    for name, overrides in variants:
        t0 = time.perf_counter()
        model = GATRec(data, **overrides)
        model.progress = True
        model.fit(harness.train, validate=harness.validate)
        seconds = time.perf_counter() - t0
        row = result_row(harness, name, harness.test(model), seconds, args.export.name)
        vals = [(h["epoch"], h["val"]) for h in model.history if "val" in h]
        row["epochs"] = model.history[-1]["epoch"] if model.history else 0
        row["best_epoch"] = max(vals, key=lambda v: v[1])[0] if vals else 0
        row["overrides"] = overrides
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.json:
            old = json.loads(args.json.read_text()) if args.json.exists() else []
            args.json.write_text(json.dumps([*old, row], indent=2))
    cols = ["model", "recall@10", "ndcg@10", "recall@20", "ndcg@20", "hit@10", "mrr"]
    cols += ["coverage@20", "epochs", "best_epoch", "train_seconds"]
    print(f"{args.export.name}, protocol {args.protocol}, {rows[0]['users']} test users")
    print(render([{c: r[c] for c in cols} for r in rows], "table"))


if __name__ == "__main__":
    main()
