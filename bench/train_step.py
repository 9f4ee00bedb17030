"""Seconds per full-graph GAT training step under three allocators, side by side.

Usage::

    .venv/bin/python bench/train_step.py [--edges 2400000,25000000 | --exports DIR,DIR]
        [--steps 3] [--settings tcmalloc,hugetlb,default] [--json-out F]

A 10M-purchase shop's training step page-faults most of its ~24 GB of temporaries when
torch's tensors outgrow glibc's mmap threshold (see ``interestgraph/malloc.py`` and
``docs/scale.md``). For each graph (``bench/train.py``'s seeded random graph with the
export's schema and ~``edges`` message edges, or with ``--exports`` a saved export — e.g.
``interestgraph export`` of the synthetic shop at 1M and 3M — trained on the main job's
split; a random graph's zipf-popular destinations keep more rows in cache than a shop's
graph, so it understates the step time) this script runs the main job's training step
— ``GATRec.fit``'s own loss with the default ``GATConfig`` (3 layers, full graph, a batch
of purchases / ``max_steps``) — for ``--steps`` steps after one warm-up, in a fresh
process per setting:

* **tcmalloc** (our path where installed): ``INTERESTGRAPH_MALLOC=tcmalloc``, the
  preloaded ``libtcmalloc_minimal`` that ``make bootstrap`` fetches;
* **hugetlb** (our fallback): ``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``;
* **default** (the baseline): glibc's defaults (``INTERESTGRAPH_MALLOC=default``).

Each child restarts itself through :func:`interestgraph.malloc.reexec`, the console
command's own code, and reports the allocator it runs on (``active``).

It prints the median seconds per step, minor page faults and system seconds per step,
and the process's peak RSS, per graph and setting (``edges``: the message-passing edges
the step propagates over), and the growth of the step time per edge between the two
largest graphs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

SETTINGS = ("tcmalloc", "hugetlb", "default")


def measure(graph: str, steps: int) -> dict:
    """Time ``steps`` training steps of ``GATRec.fit`` (this process) on ``graph``: a
    random graph of that many edges, or a saved export's folder (its harness split)."""
    import torch
    from train import random_graph, train_of

    import interestgraph.gnn.train as train_mod
    from interestgraph.gnn.evaluate import Harness
    from interestgraph.malloc import active
    from interestgraph.sync import load_export

    if graph.isdigit():
        data = random_graph(int(graph))
        train = train_of(data)
    else:
        data = load_export(Path(graph))[0]
        train = Harness(data, "random", 0).train  # the main job's split
    for t in data.node_types:  # the default GAT reads no text
        if "x" in data[t]:
            del data[t].x
    times, faults, sys_s = [], [], []

    def timed_epoch(batch_loss, train, opt, batch, rng, device=None) -> float:
        for s in range(steps + 1):
            idx = rng.integers(0, len(train.users), batch)
            u, pos = torch.from_numpy(train.users[idx]), torch.from_numpy(train.items[idx])
            neg = torch.from_numpy(rng.integers(0, train.num_items, batch))
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            loss = batch_loss(u, pos, neg)
            opt.zero_grad()
            loss.backward()
            opt.step()
            dt, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
            if s:  # the first step sizes the heap: a warm-up
                times.append(dt)
                faults.append(r1.ru_minflt - r0.ru_minflt)
                sys_s.append(r1.ru_stime - r0.ru_stime)
        return 0.0

    train_mod.bpr_epoch = timed_epoch  # fit's own loss and optimiser, a few steps only
    rec = train_mod.GATRec(data, device="cpu", epochs=1).fit(train)
    return {
        "graph": graph if graph.isdigit() else Path(graph).name,
        "active": active(),
        "edges": sum(int(e.shape[1]) for e in rec.edges.values()),
        "purchases": len(train.users),
        "s_per_step": round(float(np.median(times)), 2),
        "faults_per_step": int(np.median(faults)),
        "sys_s_per_step": round(float(np.median(sys_s)), 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def main() -> None:
    """Run every size under both settings (one process each) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", default="2400000,25000000", help="random graphs' edges")
    parser.add_argument("--exports", help="saved export folders instead (comma-separated)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--settings", default=",".join(SETTINGS), help="allocators to run")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child: one measurement
    args = parser.parse_args()
    if args.one:
        from interestgraph.malloc import reexec

        reexec()  # the console command's allocator choice, from INTERESTGRAPH_MALLOC
        print(json.dumps(measure(args.one, args.steps)))
        return
    from _common import growth

    from interestgraph.output import render

    rows = []
    for graph in (args.exports or args.edges).split(","):
        for name in args.settings.split(","):
            drop = ("GLIBC_TUNABLES", "LD_PRELOAD", "INTERESTGRAPH_MALLOC_ACTIVE")
            base = {k: v for k, v in os.environ.items() if k not in drop}
            out = subprocess.run(
                [sys.executable, __file__, "--one", graph, "--steps", str(args.steps)],
                env={**base, "INTERESTGRAPH_MALLOC": name}, capture_output=True, text=True,
                check=True,
            )  # fmt: skip
            rows.append({"malloc": name, **json.loads(out.stdout.strip().splitlines()[-1])})
            print(render([rows[-1]], "table"), flush=True)
    print(render(rows, "table"))
    summary = growth(rows, "edges", "malloc", "s_per_step")
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "growth": summary}, indent=2))


if __name__ == "__main__":
    main()
