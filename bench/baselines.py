"""Baselines in the evaluation harness on a saved export (protocol a or b), as a table.

Usage::

    .venv/bin/python bench/baselines.py --export DIR [--protocol random|temporal]
        [--models MostPop,ItemKNN,BPR-MF,LightGCN] [--epochs 200] [--lightgcn-layers 2]
        [--seed 0] [--threads 0] [--json OUT.json]

Make the export first, e.g. ``interestgraph ingest --dataset lastfm && interestgraph embed
&& interestgraph export --out exports/lastfm``. Prints one row per model: Recall/NDCG/
HitRate@10/20, MRR, coverage, training seconds (early stopping on validation Recall@20).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from interestgraph.gnn.baselines import BPRMF, ItemKNN, LightGCNRec, MostPop
from interestgraph.gnn.evaluate import evaluate_models
from interestgraph.gnn.train import GATRec
from interestgraph.output import render
from interestgraph.sync import load_export


def main() -> None:
    """Run the chosen baselines and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, required=True)
    parser.add_argument("--protocol", choices=["random", "temporal"], default="random")
    parser.add_argument("--models", default="MostPop,ItemKNN,BPR-MF,LightGCN")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lightgcn-layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="Model seed (the split is seed 0).")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--json", type=Path, help="Also write the rows to this file.")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed = args.seed
    factories = {
        "MostPop": lambda data: MostPop(),
        "ItemKNN": lambda data: ItemKNN(),
        "BPR-MF": lambda data: BPRMF(epochs=args.epochs, lr=args.lr, seed=seed),
        "LightGCN": lambda data: LightGCNRec(
            epochs=args.epochs, lr=args.lr, layers=args.lightgcn_layers, seed=seed
        ),
        "GAT": lambda data: GATRec(data, epochs=args.epochs, seed=seed),
    }
    chosen = {m: factories[m] for m in args.models.split(",")}
    data, _, _ = load_export(args.export)
    name = args.export.name
    rows = evaluate_models(data, args.protocol, chosen, dataset=name)
    cols = [
        "model",
        "recall@10",
        "ndcg@10",
        "recall@20",
        "ndcg@20",
        "hit@10",
        "mrr",
        "coverage@20",
        "train_seconds",
    ]
    print(f"{name}, protocol {args.protocol}, {rows[0]['users']} test users, {rows[0]['date']}")
    print(render([{c: r[c] for c in cols} for r in rows], "table"))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
