"""Text encoding speed on CPU: ONNX Runtime (our path) vs PyTorch (the baseline).

Usage::

    .venv/bin/python bench/embed.py [--texts 5000] [--batch-size 64] [--json-out F]

Encodes the first ``--texts`` distinct item texts of the synthetic shop (``title. description``,
exactly what the main job's embed stage encodes) with the default model, once per back-end
(:class:`interestgraph.embedding.TextEncoder` with ``backend="onnx"`` and ``"torch"``),
each in a fresh process after a warm-up batch; prints texts/s, peak RSS and the largest
difference between the two back-ends' vectors. Only the encoding is timed (the embed stage
also reads texts and writes vectors to Neo4j; ``bench/scale.py`` times the whole stage).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from interestgraph.output import render


def texts(n: int) -> list[str]:
    """The first ``n`` distinct ``title. description`` texts of the synthetic shop."""
    from interestgraph.datasets import load_dataset

    size = max(1000, 10 * n)
    while True:
        items = load_dataset("synthetic", Path("."), size=size, seed=7).tables["items"].frame
        distinct = list(dict.fromkeys((items["title"] + ". " + items["description"]).tolist()))
        if len(distinct) >= n or size > 10**8:
            return distinct[:n]
        size *= 4


def one(backend: str, n: int, batch_size: int, out: Path) -> None:
    """Encode in this process with ``backend``; write the vectors and the figures to ``out``."""
    from interestgraph.embedding import TextEncoder

    data = texts(n)
    enc = TextEncoder(device="cpu", backend=backend, batch_size=batch_size)
    assert enc.backend == backend, f"asked for {backend}, got {enc.backend}"
    enc.encode(data[:batch_size])  # warm-up
    t0 = time.perf_counter()
    vectors = enc.encode(data)
    sec = time.perf_counter() - t0
    np.save(out.with_suffix(".npy"), vectors)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out.write_text(json.dumps({"seconds": sec, "peak_rss_gib": peak}))


def main() -> None:
    """Run each back-end in a fresh process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one, args.texts, args.batch_size, args.out)
        return
    rows, vectors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("onnx", "torch"):
            out = Path(tmp) / f"{backend}.json"
            cmd = [sys.executable, __file__, "--one", backend, "--texts", str(args.texts),
                   "--batch-size", str(args.batch_size), "--out", str(out)]  # fmt: skip
            subprocess.run(cmd, check=True)
            got = json.loads(out.read_text())
            vectors[backend] = np.load(out.with_suffix(".npy"))
            rows.append({
                "backend": backend, "path": "ours" if backend == "onnx" else "baseline",
                "texts": args.texts, "seconds": round(got["seconds"], 2),
                "texts_per_s": round(args.texts / got["seconds"]),
                "peak_rss_gib": round(got["peak_rss_gib"], 2),
            })  # fmt: skip
    diff = float(np.abs(vectors["onnx"] - vectors["torch"]).max())
    print(render(rows, "table"))
    speedup = rows[0]["texts_per_s"] / rows[1]["texts_per_s"]
    print(f"onnx_texts_per_s={rows[0]['texts_per_s']} torch_texts_per_s={rows[1]['texts_per_s']} "
          f"speedup={speedup:.2f} max_abs_diff={diff:.1e}")  # fmt: skip
    if args.json_out:
        args.json_out.write_text(
            json.dumps({"rows": rows, "speedup": round(speedup, 3), "max_abs_diff": diff}, indent=2)
        )


if __name__ == "__main__":
    main()
