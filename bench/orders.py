"""Authenticated MtGox order traffic (buyBTC, sellBTC, cancelOrder) against the raw ASGI ceiling.

    python bench/orders.py [--seconds 8] [--connections 64]

The emulator runs as `serve` builds it (realtime clock, seed 7, the random flow trading beside the
benchmark) and the raw ASGI "ok" app of bench/rest.py, each in a child under the same uvicorn
settings (the default stack: uvloop and httptools when installed). Before the clock starts, one
account with funds and one MtGox API key per connection are made through the control API.

Load: this process, asyncio on raw sockets (keep-alive, HTTP/1.1, one request at a time per
connection, a closed loop per connection). Every request is a POST signed as the spec says
(Rest-Key, Rest-Sign = base64 HMAC-SHA512 of the body, a growing nonce per key, each connection its
own key); a connection cycles buyBTC 1 BTC at 1.00 USD, sellBTC 1 BTC at 1000 USD (both rest, far
from the market), then cancelOrder of each: half the requests place an order, half cancel one. Every
answer is checked for an error. The ceiling is the raw app under the same generator (POST with a body
of the same size, no signature), before and after; with wrk on the PATH the raw app's rate under wrk
is printed beside it (what the generator itself costs).

The last line: `orders: N req/s p50 .. p99 ..; raw ASGI M req/s; ratio R (target >= 0.3)`.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import re
import shutil
import time
from dataclasses import dataclass

import httpx
from rest import measure, start  # bench/rest.py: the same children and the same ceiling

from emulator.server import stack

TARGET = 0.3


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    count: int


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    found = re.search(rb"(?i)content-length:\s*(\d+)", head)
    length = int(found.group(1)) if found else 0
    return await reader.readexactly(length)


def _request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/x-www-form-urlencoded"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(
    port: int, key: tuple[str, bytes] | None, stop: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    nonce = time.time_ns() // 1000
    oids: list[tuple[str, str]] = []
    step = 0
    try:
        while (began := time.perf_counter()) < stop:
            nonce += 1
            if key is None:  # the ceiling: a body of about the same size, nobody reads it
                path, body = "/plain", f"nonce={nonce}&amount=1&price=1.00".encode()
                request = _request(path, body, {})
            else:
                kind = step % 4
                if kind == 0:
                    path, body = "/code/buyBTC.php", f"nonce={nonce}&amount=1&price=1.00".encode()
                elif kind == 1:
                    path, body = "/code/sellBTC.php", f"nonce={nonce}&amount=1&price=1000".encode()
                else:
                    oid, side = oids.pop(0) if oids else ("0", "1")
                    path, body = "/code/cancelOrder.php", f"nonce={nonce}&oid={oid}&type={side}".encode()
                sign = base64.b64encode(hmac.new(key[1], body, hashlib.sha512).digest()).decode()
                request = _request(path, body, {"Rest-Key": key[0], "Rest-Sign": sign})
            writer.write(request)
            answer = await _read_answer(reader)
            latencies.append(time.perf_counter() - began)
            if key is not None:
                if b'"error"' in answer:
                    errors.append(1)
                elif step % 4 < 2:
                    found = re.search(rb'"oid":\s*"([^"]+)"', answer)
                    if found:
                        oids.append((found.group(1).decode(), "2" if step % 4 == 0 else "1"))
                    else:
                        errors.append(1)
            step += 1
    finally:
        writer.close()


async def _load(port: int, keys: list[tuple[str, bytes]] | None, seconds: float, connections: int) -> Load:
    latencies: list[float] = []
    errors: list[int] = []
    stop = time.perf_counter() + seconds
    began = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, keys[i] if keys else None, stop, latencies, errors) for i in range(connections))
    )
    elapsed = time.perf_counter() - began
    latencies.sort()
    return Load(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        len(errors),
        len(latencies),
    )


def run_load(port: int, keys: list[tuple[str, bytes]] | None, seconds: float, connections: int) -> Load:
    try:
        import uvloop

        return uvloop.run(_load(port, keys, seconds, connections))
    except ImportError:
        return asyncio.run(_load(port, keys, seconds, connections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    loop, http = stack()
    print(f"{args.connections} connections, {args.seconds:g} s per run; server stack: uvicorn, {loop}, {http}")
    raw, raw_url = start("raw")
    emulator, url = start("emulator")
    try:
        keys = []
        with httpx.Client(base_url=url) as client:
            for i in range(args.connections):
                name = f"bench{i}"
                made = client.post(
                    "/_emulator/accounts",
                    json={"name": name, "password": "pw", "balances": {"BTC": "100000", "USD": "10000000"}},
                )
                assert made.status_code in (200, 201), made.text
                answer = client.post("/_emulator/keys", json={"api": "mtgox", "account": name}).json()
                keys.append((answer["key"], base64.b64decode(answer["secret"])))
        raw_port, port = int(raw_url.rsplit(":", 1)[1]), int(url.rsplit(":", 1)[1])
        before = run_load(raw_port, None, args.seconds, args.connections)
        orders = run_load(port, keys, args.seconds, args.connections)
        after = run_load(raw_port, None, args.seconds, args.connections)
        wrk = measure("wrk", raw_url + "/plain", {}, args.seconds, args.connections) if shutil.which("wrk") else None
    finally:
        for child in (raw, emulator):
            child.terminate()
            child.wait(timeout=10)
    ceiling = (before.rate + after.rate) / 2
    for name, r in (("raw (before)", before), ("orders", orders), ("raw (after)", after)):
        print(f"  {name:13} {r.rate:8.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  errors {r.errors}")
    if wrk is not None:
        print(f"  raw under wrk {wrk.rate:8.0f} req/s (the same server without this generator's own cost)")
    ratio = orders.rate / ceiling
    verdict = "met" if ratio >= TARGET and not orders.errors else "NOT met"
    print(
        f"orders: {orders.rate:.0f} req/s p50 {orders.p50_ms:.1f} ms p99 {orders.p99_ms:.1f} ms "
        f"({orders.count:,} requests, {orders.errors} errors); raw ASGI {ceiling:.0f} req/s; "
        f"ratio {ratio:.2f} (target >= {TARGET}: {verdict})"
    )


if __name__ == "__main__":
    main()
