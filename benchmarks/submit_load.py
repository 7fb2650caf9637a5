"""Benchmark: survey submissions against a real ``manyi serve``, and no loss when it is killed.

1. Starts ``manyi serve`` on loopback over a fresh store (SQLite by default; ``--database
   postgresql://...`` for PostgreSQL), with a campaign, an API key and an open status.
   ``--workers`` server processes (default: one per core, at most 4).
2. Submits responses from a load generator (asyncio streams, ``--concurrency`` connections, 32) for
   ``--seconds`` (30) and prints accepted/s and p50/p99 latency (goal: ≥ 1,000 accepted/s with
   p99 ≤ 100 ms on the 2-core machine).
3. Starts the load again, kills the server with SIGKILL in the middle of it, restarts it,
   and checks that every submission that got a 2xx is stored exactly once. The last line is
   ``acknowledged=N stored=N lost=0 duplicated=0``.

Run: ``.venv/bin/python benchmarks/submit_load.py [--seconds 30] [--database URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WORKERS = 1


def start(url: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "manyi.cli", "serve", "--port", str(port), "--workers", str(WORKERS)],
        env={**os.environ, "MANYI_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def setup(url: str) -> str:
    """A campaign on the after-sales instrument, open, and an API key for it."""
    os.environ["MANYI_DATABASE_URL"] = url
    from manyi.io.instruments import example_path
    from manyi.services.requests import Source
    from manyi.services.store import create_campaign, set_status
    from manyi.services.survey import create_api_key

    create_campaign("load", Source.of(example_path("after-sales")), url=url)
    set_status("load", "open", url=url)
    return create_api_key("load", url=url)


def answers() -> dict:
    from manyi.io.instruments import load_example

    inst = load_example("after-sales")
    rng = np.random.default_rng(1)
    a = {i: int(rng.integers(2, 6)) for i in inst.item_ids}
    a.update(nps=9, csat=4, ces=5, branch="beijing")
    return a


async def load(port: int, key: str, seconds: float, concurrency: int, acked: list[str], lat: list[float]):
    """``concurrency`` keep-alive connections, each posting one submission after another.

    A small HTTP/1.1 client on asyncio streams (request bytes built by hand, the answer read
    by its Content-Length): it costs a fraction of what a general client does, so the
    server, not the load generator, is what is measured on a machine they share."""
    import json

    body = answers()
    stop = time.perf_counter() + seconds
    path = "/api/v1/campaigns/load/responses"

    def request(rid: str) -> bytes:
        payload = json.dumps({"response_id": rid, "answers": body}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
            f"Idempotency-Key: {rid}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    async def status_of(reader: asyncio.StreamReader) -> int:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(lines[0].split()[1])

    async def worker() -> None:
        conn = None
        while time.perf_counter() < stop:
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                reader, writer = conn
                rid = uuid.uuid4().hex
                t0 = time.perf_counter()
                writer.write(request(rid))
                status = await asyncio.wait_for(status_of(reader), 10)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                conn = None  # the server is down (killed): try again a little later
                await asyncio.sleep(0.05)
                continue
            if 200 <= status < 300:
                acked.append(rid)
                lat.append(time.perf_counter() - t0)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


def fresh_pg(admin_url: str):
    """A new, empty database on the server of ``admin_url``, and a function that drops it."""
    import psycopg

    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"manyi_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from manyi.store import db

        db.dispose_all()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name, drop


def stored(url: str) -> tuple[int, int, set[str]]:
    from sqlalchemy import func, select

    from manyi.store import db
    from manyi.store.models import Response

    db.dispose_all()
    with db.session(url) as s:
        ids = s.scalars(select(Response.response_id)).all()
        n = s.scalar(select(func.count()).select_from(Response))
    return n, n - len(set(ids)), set(ids)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--database", default="")
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                    help="server worker processes (default: one per core, as a deployment runs it)")
    args = ap.parse_args()
    global WORKERS
    WORKERS = args.workers
    tmp = Path(tempfile.mkdtemp(prefix="manyi-load-"))
    url = args.database or f"sqlite:///{tmp / 'manyi.db'}"
    drop = None
    if url.startswith("postgresql"):  # a fresh database on that server, dropped at the end
        url, drop = fresh_pg(url)
    key = setup(url)
    port = free_port()

    print(f"store: {url.split('@')[-1]}; {args.workers} worker(s); {args.concurrency} connections; {args.seconds:g} s")
    server = start(url, port)
    acked: list[str] = []
    lat: list[float] = []
    t0 = time.perf_counter()
    asyncio.run(load(port, key, args.seconds, args.concurrency, acked, lat))
    took = time.perf_counter() - t0
    p50, p99 = (np.percentile(lat, [50, 99]) * 1000) if lat else (float("nan"),) * 2
    rate = len(acked) / took
    print(f"accepted: {len(acked)} in {took:.1f} s = {rate:,.0f}/s (goal ≥ 1,000/s); "
          f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal ≤ 100 ms)")

    # kill in the middle of the load, restart, keep loading
    acked2: list[str] = []
    lat2: list[float] = []

    async def killer() -> None:
        nonlocal server
        await asyncio.sleep(min(5.0, args.seconds / 3))
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        await asyncio.sleep(0.5)
        server = await asyncio.to_thread(start, url, port)

    async def both() -> None:
        await asyncio.gather(load(port, key, min(12.0, args.seconds), args.concurrency, acked2, lat2), killer())

    asyncio.run(both())
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=10)
    acknowledged = set(acked) | set(acked2)
    n, dup, ids = stored(url)
    lost = len(acknowledged - ids)
    print(f"kill test: {len(acked2)} acknowledged around a SIGKILL and a restart")
    print(f"acknowledged={len(acknowledged)} stored={len(acknowledged & ids)} lost={lost} duplicated={dup}")
    if drop is not None:
        drop()


if __name__ == "__main__":
    main()
