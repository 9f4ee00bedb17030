"""HTTP ``recommend`` latency under a bounded load, beside the in-process Python API.

Usage::

    .venv/bin/python bench/http_api.py [--calls 2000] [--concurrency 8] [--port 28080]

Uses the benchmark server in ``.bench/home`` (ports 27687/27474) with Last.fm loaded; when
it holds no written-back run yet, a short GAT run is trained and written first. Starts
``interestgraph serve`` as its own process on loopback, then a closed-loop load generator:
``--concurrency`` threads, each with one keep-alive connection, ``--calls`` requests in all
(``GET /api/recommend/{user}?k=10``, users in turn). Prints p50/p99/mean latency, calls/s
and errors, beside the same calls made in-process through ``InterestGraph.recommend`` at
the same concurrency (the cost of HTTP + JSON + the service's thread pool).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, bench_settings, prepare
from serve import latency, percentiles

from interestgraph.output import render


def ensure_run(store) -> None:
    """Train and write back a short run unless the bench graph already has a current one."""
    from interestgraph.gnn.job import train_job
    from interestgraph.gnn.train import GATConfig
    from interestgraph.sync import export_graph
    from interestgraph.sync.writeback import current_run, writeback

    if current_run(store) is not None:
        return
    data, maps, info = export_graph(store)
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    train_job(
        data, folder, config=GATConfig(epochs=3), device="cpu",
        run_id=f"gat-bench-{datetime.now(UTC):%Y%m%dT%H%M%S}",
        export_meta=info.as_dict(), maps=maps,
    )  # fmt: skip
    writeback(store, folder, progress=False)


def http_load(port: int, token: str, users: list[str], calls: int, threads: int) -> dict:
    """``calls`` GETs over ``threads`` keep-alive connections; latency and error counts."""
    per = [users[i % len(users)] for i in range(calls)]
    chunks = [per[t::threads] for t in range(threads)]
    headers = {"Authorization": f"Bearer {token}"}

    def worker(chunk: list[str]) -> tuple[list[float], int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times, errors = [], 0
        for u in chunk:
            t0 = time.perf_counter()
            try:
                conn.request("GET", f"/api/recommend/{u}?k=10", headers=headers)
                res = conn.getresponse()
                body = res.read()
                if res.status != 200 or len(json.loads(body)) != 10:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            times.append(time.perf_counter() - t0)
        conn.close()
        return times, errors

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, chunks))
    wall = time.perf_counter() - t0
    times = [t for ts, _ in results for t in ts]
    return {
        **percentiles(times),
        "calls_per_s": round(calls / wall),
        "errors": sum(e for _, e in results),
        "calls": calls,
    }


def main() -> None:
    """Run the HTTP benchmark and print both sides."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=28080)
    args = parser.parse_args()

    from interestgraph.api import InterestGraph
    from interestgraph.graphstore import GraphStore, LocalServer
    from interestgraph.service.auth import api_token

    settings = bench_settings()
    server = LocalServer(settings)
    server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")},
        "INTERESTGRAPH_HOME": str(settings.home),
        "INTERESTGRAPH_BOLT_PORT": str(settings.bolt_port),
        "INTERESTGRAPH_HTTP_PORT": str(settings.http_port),
    }
    service = None
    try:
        with GraphStore.from_settings(settings) as store:
            prepare(store, "lastfm", 0)
            ensure_run(store)
            users = [r["u"] for r in store.read("MATCH (u:User) RETURN u.user_id AS u")]
            token = api_token(settings)
            service = subprocess.Popen(
                [str(ROOT / ".venv/bin/interestgraph"), "-q", "serve", "--port", str(args.port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                    c.request("GET", "/api/health")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or service.poll() is not None:
                    raise SystemExit("interestgraph serve did not come up")
                time.sleep(0.3)
            http_load(args.port, token, users[:50], 200, args.concurrency)  # warm-up
            rows = [
                {"path": "HTTP GET /api/recommend (uvicorn, own process)",
                 "concurrency": args.concurrency,
                 **http_load(args.port, token, users, args.calls, args.concurrency)},
            ]  # fmt: skip
            ig = InterestGraph(store)
            latency(ig, users[:50], 100, args.concurrency)  # warm-up
            rows.append(
                {"path": "InterestGraph.recommend in-process", "concurrency": args.concurrency,
                 **latency(ig, users, args.calls, args.concurrency), "errors": 0,
                 "calls": args.calls}
            )  # fmt: skip
    finally:
        if service is not None:
            service.terminate()
            service.wait(10)
        server.stop()
    print(
        f"Last.fm, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores; "
        "client, service and Neo4j share the machine"
    )
    print(render(rows))


if __name__ == "__main__":
    main()
