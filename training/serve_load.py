"""A load test of ``wirecoder serve`` on this machine: many concurrent clients against a server in its
own process, every answer checked against an offline ``predict`` of the same text.

Only localhost is ever contacted; the run is bounded in requests and in time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from model.errors import WirecoderError

logger = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir: str | Path, port: int, extra: list[str] = (), timeout: float = 600.0) -> subprocess.Popen:
    """``wirecoder serve`` in a child process, returned once /v1/health answers."""
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "training.cli", "serve", "--model", str(model_dir), "--host", "127.0.0.1",
                             "--port", str(port), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise WirecoderError(f"the server exited ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop_server(proc)
    raise WirecoderError(f"the server did not answer within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def difference(got, want, path: str = "", tol: float = 1e-3) -> tuple[str | None, bool]:
    """(where ``got`` first differs from ``want``, or None; whether every difference is a number off by
    at most ``tol``). Batches of another composition pad sentences differently, and float sums in
    another order can move a score's last rounded digit: that is not a wrong answer."""
    if isinstance(want, dict) and isinstance(got, dict):
        if set(got) != set(want):
            return f"{path} keys", False
        items = [(k, got[k], want[k]) for k in want]
    elif isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return f"{path} length {len(got)} != {len(want)}", False
        items = list(zip(range(len(want)), got, want))
    elif isinstance(want, float) and isinstance(got, float):
        return (None, True) if got == want else (f"{path}: {got} != {want}", abs(got - want) <= tol)
    else:
        return (None, True) if got == want else (f"{path}: {got!r} != {want!r}", False)
    first, close = None, True
    for key, g, w in items:
        where, ok = difference(g, w, f"{path}.{key}" if path else str(key), tol)
        if where is not None:
            first = first or where
            close = close and ok
            if not close:
                return first, False
    return first, close


async def _hammer(url: str, bodies: list[dict], expected: list[dict], clients: int, time_limit: float,
                  request_timeout: float) -> dict:
    import httpx

    latencies: list[float] = []
    counts = {"ok": 0, "ok_within_score_rounding": 0, "wrong": 0, "lost": 0, "not_sent": 0}
    examples: list[str] = []
    next_index = iter(range(len(bodies)))
    deadline = time.monotonic() + time_limit

    async def client(http: httpx.AsyncClient) -> None:
        for i in next_index:
            if time.monotonic() > deadline:
                counts["not_sent"] += 1
                continue
            start = time.perf_counter()
            try:
                r = await http.post(url, json=bodies[i])
                answer = r.json()["predictions"] if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                logger.warning("request %d lost: %s", i, exc)
                answer = None
            latencies.append(time.perf_counter() - start)
            if answer is None:
                counts["lost"] += 1
                continue
            where, close = difference(answer, [expected[i]])
            key = "ok" if where is None else "ok_within_score_rounding" if close else "wrong"
            counts[key] += 1
            if where is not None and len(examples) < 10:
                examples.append(f"request {i} ({key}): {where}")

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=request_timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    counts["wall_s"] = time.perf_counter() - started
    counts["latencies"] = latencies
    counts["differences"] = examples
    return counts


def run_load_test(model_dir: str | Path, texts: list[str], n_requests: int = 2000, clients: int = 20,
                  time_limit: float = 900.0, request_timeout: float = 120.0, batch_size: int = 64,
                  server_args: list[str] = ()) -> dict:
    """``n_requests`` one-text requests (the texts in turn) from ``clients`` concurrent clients.

    Offline ``predict`` of the same texts runs first (alone on the machine): its answers are what
    every HTTP answer must equal, and its throughput is the yardstick.
    """
    import httpx

    from model.predictor import EventCoder

    if not texts:
        raise WirecoderError("no texts to send")
    chosen = [texts[i % len(texts)] for i in range(n_requests)]
    ids = [f"r{i}" for i in range(n_requests)]
    coder = EventCoder.from_pretrained(model_dir, device="cpu")
    coder.predict(chosen[:8], batch_size=batch_size)  # warm-up
    start = time.perf_counter()
    offline = coder.predict(chosen, batch_size=batch_size, ids=ids)
    offline_s = time.perf_counter() - start
    # As the server sends them: JSON, so floats compare as they travel.
    expected = [json.loads(json.dumps(p.to_dict())) for p in offline]
    del coder, offline

    port = free_port()
    proc = start_server(model_dir, port, ["--batch-size", str(batch_size), *server_args])
    try:
        bodies = [{"texts": [t], "ids": [i]} for t, i in zip(chosen, ids)]
        result = asyncio.run(_hammer(f"http://127.0.0.1:{port}/v1/code", bodies, expected, clients, time_limit,
                                     request_timeout))
        health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).json()
    finally:
        stop_server(proc)
    lat = np.asarray(result.pop("latencies")) * 1000
    answered = result["ok"] + result["ok_within_score_rounding"] + result["wrong"]
    return {
        "requests": n_requests, "clients": clients,
        **{k: result[k] for k in ("ok", "ok_within_score_rounding", "wrong", "lost", "not_sent", "differences")},
        "wall_s": round(result["wall_s"], 2),
        "requests_per_s": round(answered / result["wall_s"], 2),
        "latency_ms": {q: round(float(np.percentile(lat, p)), 1) if len(lat) else None
                       for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "offline_predict_texts_per_s": round(n_requests / offline_s, 2),
        "served_share_of_offline": round((answered / result["wall_s"]) / (n_requests / offline_s), 3),
        "server_predict_calls": health.get("predict_calls"),
        "mean_texts_per_predict_call": round(health["texts"] / health["predict_calls"], 2) if health.get("predict_calls") else None,
    }


def format_load_test(r: dict) -> str:
    lat = r["latency_ms"]
    return "\n".join([
        f"{r['requests']} requests from {r['clients']} concurrent clients: {r['ok']} answered exactly as offline predict, "
        f"{r['ok_within_score_rounding']} the same but for a score's last digit, {r['wrong']} wrong, {r['lost']} lost, "
        f"{r['not_sent']} not sent (time limit)",
        *(f"  {d}" for d in r["differences"]),
        f"served     {r['requests_per_s']:8.1f} requests/s (one text each) in {r['wall_s']:.1f} s; "
        f"latency p50 {lat['p50']} ms, p90 {lat['p90']} ms, p99 {lat['p99']} ms, max {lat['max']} ms",
        f"offline    {r['offline_predict_texts_per_s']:8.1f} texts/s (EventCoder.predict, one call, same texts)",
        f"served / offline throughput: {r['served_share_of_offline']:.0%}; the server made {r['server_predict_calls']} "
        f"predict calls, {r['mean_texts_per_predict_call']} texts each on average",
    ])
