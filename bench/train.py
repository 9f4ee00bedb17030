"""GAT training speed: seconds per step/epoch and edge-layers/s, CPU and (when present) CUDA.

Usage::

    .venv/bin/python bench/train.py [--export .bench/exports/lastfm] [--synthetic-edges 1000000]
        [--devices cpu,cuda] [--steps 5] [--fanout 10,5]

For each graph (a saved export, and a seeded random graph with the same schema and about
``--synthetic-edges`` message-passing edges) and each device, it times ``--steps`` real
training steps (forward + backward + Adam, batch 4096 positives) of

* the GAT full-graph path (every step encodes the whole graph),
* the GAT mini-batch path (``--fanout``; encodes the sampled neighbourhood),
* PyG's LightGCN full-graph step on the user–item graph alone, as the anchor,

and prints seconds per step, the implied seconds per epoch, and **edge-layers/s** = message
edges × layers / seconds per full-graph step. With CUDA it also prints the speed-up over
CPU. The GPU check is this same command on a machine with CUDA (``--devices cpu,cuda``).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import HeteroData

from interestgraph.gnn.baselines import Interactions, bpr_loss
from interestgraph.gnn.evaluate import PURCHASED
from interestgraph.gnn.train import GATRec
from interestgraph.output import render
from interestgraph.sync import load_export

BATCH = 4096
LAYERS = 2  # the README's speed table was measured with 2 layers (the default is now 3)


def random_graph(edges: int, seed: int = 0) -> HeteroData:
    """A seeded graph with the export's schema; ~``edges`` message edges incl. reverses."""
    rng = np.random.default_rng(seed)
    per = edges // 2  # forward + reverse
    n_buy, n_fu, n_ft, n_ht = (int(per * f) for f in (0.5, 0.1, 0.15, 0.25))
    users, items, topics = max(per // 40, 10), max(per // 10, 10), 2000

    def pairs(n: int, a: int, b: int) -> torch.Tensor:
        src = rng.integers(0, a, n)
        dst = np.minimum(rng.zipf(1.3, n) - 1, b - 1)  # popular destinations
        return torch.from_numpy(np.unique(np.stack([src, rng.permutation(dst)]), axis=1))

    data = HeteroData()
    for t, n in (("user", users), ("item", items), ("topic", topics)):
        data[t].num_nodes = n
        data[t].x = torch.randn(n, 384)
    for et, e in (
        (PURCHASED, pairs(n_buy, users, items)),
        (("user", "follows", "user"), pairs(n_fu, users, users)),
        (("user", "follows", "topic"), pairs(n_ft, users, topics)),
        (("item", "has_topic", "topic"), pairs(n_ht, items, topics)),
    ):
        data[et].edge_index = e
        data[(et[2], f"rev_{et[1]}", et[0])].edge_index = e.flip(0)
    return data


def train_of(data: HeteroData) -> Interactions:
    """All purchases as training interactions."""
    u, i = data[PURCHASED].edge_index.numpy()
    return Interactions(u, i, data["user"].num_nodes, data["item"].num_nodes)


def timed_steps(
    loss_of: Callable[[np.ndarray, np.ndarray], torch.Tensor],
    opt: torch.optim.Optimizer,
    train: Interactions,
    device: str,
    steps: int,
) -> float:
    """Median seconds of ``steps`` BPR steps (after one warm-up): loss, backward, Adam.

    ``loss_of(positive_rows, negative_items)`` builds the loss of one batch.
    """
    rng = np.random.default_rng(0)
    times = []
    for s in range(steps + 1):
        idx = rng.integers(0, len(train.users), BATCH)
        neg = rng.integers(0, train.num_items, BATCH)
        _sync(device)
        t0 = time.perf_counter()
        loss = loss_of(idx, neg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(device)
        if s:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_gat(data: HeteroData, device: str, steps: int, fanout: list[int]) -> float:
    """Seconds per GAT training step (full graph, or mini-batch with ``fanout``)."""
    rec = GATRec(data, device=device, fanout=fanout, layers=LAYERS)
    train = train_of(data)
    rec.use_graph(train)
    users = torch.from_numpy(train.users).to(rec.device)
    items = torch.from_numpy(train.items).to(rec.device)

    def loss_of(idx: np.ndarray, neg_np: np.ndarray) -> torch.Tensor:
        i = torch.from_numpy(idx).to(rec.device)
        u, pos = users[i], items[i]
        neg = torch.from_numpy(neg_np).to(rec.device)
        h, rows = rec._encode({"user": u, "item": torch.cat([pos, neg])})
        hu = h["user"][rows("user", u)]
        pos_s = (hu * h["item"][rows("item", pos)]).sum(-1)
        return bpr_loss(pos_s, (hu * h["item"][rows("item", neg)]).sum(-1), hu.new_zeros(()), 0)

    opt = torch.optim.Adam(rec.model.parameters(), lr=1e-3)
    return timed_steps(loss_of, opt, train, device, steps)


def time_lightgcn(data: HeteroData, device: str, steps: int) -> float:
    """Seconds per LightGCN full-graph step on the user–item graph (the anchor)."""
    from torch_geometric.nn.models import LightGCN

    train = train_of(data)
    nu = train.num_users
    u = torch.from_numpy(train.users).to(device)
    i = torch.from_numpy(train.items).to(device) + nu
    ei = torch.cat([torch.stack([u, i]), torch.stack([i, u])], 1)
    model = LightGCN(nu + train.num_items, 64, LAYERS).to(device)

    def loss_of(idx: np.ndarray, neg_np: np.ndarray) -> torch.Tensor:
        emb = model.get_embedding(ei)
        b = torch.from_numpy(idx).to(device)
        neg = torch.from_numpy(neg_np).to(device) + nu
        bu, bp = u[b], i[b]
        pos_s = (emb[bu] * emb[bp]).sum(-1)
        return bpr_loss(pos_s, (emb[bu] * emb[neg]).sum(-1), emb.new_zeros(()), 0.0)

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return timed_steps(loss_of, opt, train, device, steps)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    """Time every path on every graph and device; print one table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, default=Path(".bench/exports/lastfm"))
    parser.add_argument("--synthetic-edges", type=int, default=1_000_000)
    parser.add_argument("--devices", default="cpu,cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--fanout", default="10,5")
    args = parser.parse_args()
    fanout = [int(v) for v in args.fanout.split(",")]
    graphs: dict[str, HeteroData] = {}
    if args.export.exists():
        graphs[args.export.name] = load_export(args.export)[0]
    else:
        print(f"(no export at {args.export}; make one with `interestgraph export`)")
    if args.synthetic_edges:
        graphs[f"random-{args.synthetic_edges:,}"] = random_graph(args.synthetic_edges)
    rows = []
    for name, data in graphs.items():
        edges = sum(int(data[et].edge_index.shape[1]) for et in data.edge_types)
        purchases = int(data[PURCHASED].edge_index.shape[1])
        steps_per_epoch = math.ceil(purchases / BATCH)
        per_device = {}
        for device in args.devices.split(","):
            full = time_gat(data, device, args.steps, [])
            mini = time_gat(data, device, args.steps, fanout)
            light = time_lightgcn(data, device, args.steps)
            per_device[device] = full
            rows.append(
                {
                    "graph": name,
                    "device": device,
                    "message edges": edges,
                    "GAT full s/step": round(full, 3),
                    "GAT full s/epoch": round(full * steps_per_epoch, 1),
                    "edge-layers/s": f"{edges * LAYERS / full:,.0f}",
                    f"GAT mini-batch {args.fanout} s/step": round(mini, 3),
                    "LightGCN s/step": round(light, 3),
                    "speed-up vs cpu": (
                        round(per_device["cpu"] / full, 1) if "cpu" in per_device else "—"
                    ),
                }
            )
            print(render(rows[-1:], "table"), flush=True)
    print(
        f"\nbatch {BATCH} positives, {LAYERS} layers, 64-d, torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads"
    )
    print(render(rows, "table"))


if __name__ == "__main__":
    main()
