"""IVF top-K search speed at catalogue size: queries in list order vs row order.

Usage::

    .venv/bin/python bench/infer.py [--candidates 100000,1000000] [--queries 50000]
        [--dim 64] [--json-out F]

The main job's top-N lists come from :func:`interestgraph.gnn.infer.approx_top_k` once
``rows × candidates`` passes the exact limit (see ``docs/scale.md``). This script builds
seeded clustered embeddings (queries and candidates drawn around the same 2,000 centres,
like trained user/item embeddings), then for each catalogue size times the search of
``--queries`` rows two ways with the same index: **by list** (our path: queries sorted by
their nearest inverted list, ``search_preassigned``) and **row order** (the baseline,
the previous path). It prints seconds, queries/s, peak RSS and recall@10 against the exact
top-10 on 500 rows, and the growth of the per-query time between the two largest sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch
from _common import growth

from interestgraph.gnn.infer import approx_top_k, top_k
from interestgraph.output import render


def clustered(n: int, dim: int, centres: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """``n`` rows around random ``centres`` (Gaussian noise at a third of their scale)."""
    x = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 0.33, (n, dim))
    return torch.from_numpy(x.astype(np.float32) / np.sqrt(dim))


def peak_gib() -> float:
    """Peak RSS of this process (GiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    """Time both search orders per catalogue size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (2000, args.dim))
    queries = clustered(args.queries, args.dim, centres, rng)
    sample = np.sort(rng.choice(args.queries, 500, replace=False))
    rows = []
    for c_n in (int(s) for s in args.candidates.split(",")):
        cands = clustered(c_n, args.dim, centres, rng)
        exact = top_k(queries, cands, 10, rows=sample)
        for by_list in (True, False):
            t0 = time.perf_counter()
            got = approx_top_k(queries, cands, 10, by_list=by_list)
            sec = time.perf_counter() - t0
            pairs = zip(got.index[sample], exact.index, strict=True)
            hit = [len(set(a) & set(b)) / 10 for a, b in pairs]
            rows.append({
                "candidates": c_n, "order": "by list" if by_list else "row order",
                "seconds": round(sec, 2), "queries_per_s": round(args.queries / sec),
                "recall@10": round(float(np.mean(hit)), 4), "peak_rss_gib": round(peak_gib(), 2),
            })  # fmt: skip
            print(render([rows[-1]], "table"), flush=True)
    print(render(rows, "table"))
    summary = growth(rows, "candidates", "order", "seconds", digits=3)
    if args.json_out:
        args.json_out.write_text(json.dumps({"rows": rows, "growth": summary}, indent=2))


if __name__ == "__main__":
    main()
