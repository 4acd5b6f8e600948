#!/usr/bin/env python3
"""bench/http_load.py — the HTTP client bench/http drives.

Every request is `POST URL` with a body carrying its index; an answer counts
only when its status is 200 and its body contains that index (http-echo echoes
the request as JSON; the echo function behind an API Gateway route echoes the
event, whose body is the request's body, base64). Plain http.client with one
kept-alive connection per peer (reopened if a server closes it).

  warm  sequential requests, peers alternating in blocks (drift in the
        machine's load hits them alike); prints p50/p90/p99 per peer
"""
import argparse
import base64
import http.client
import json
import sys
import time
import urllib.parse


class Client:
    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def post(self, n):
        body = json.dumps({"n": n}).encode()
        started = time.perf_counter()
        self.conn.request("POST", self.path, body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        text = data.decode("utf-8", "replace")
        ok = response.status == 200 and (f'"n": {n}' in text or f'\\"n\\": {n}' in text
                                          or base64.b64encode(body).decode() in text)
        return elapsed, ok, response.status, text[:200]


def percentiles(samples):
    s = sorted(samples)
    if not s:
        return {"count": 0}
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    return {"count": len(s), "min_ms": round(s[0] * 1000, 3), "p50_ms": round(pick(0.5) * 1000, 3),
            "p90_ms": round(pick(0.9) * 1000, 3), "p99_ms": round(pick(0.99) * 1000, 3)}


def cmd_warm(args):
    peers = [p.split("=", 1) for p in args.peer]
    clients = {name: Client(url) for name, url in peers}
    samples = {name: [] for name, _ in peers}
    errors = {name: 0 for name, _ in peers}
    first_error = {name: None for name, _ in peers}
    n = 0
    for name, client in clients.items():
        for _ in range(args.warmup):
            n += 1
            client.post(n)
    done = 0
    while done < args.count:
        block = min(args.block, args.count - done)
        for name, client in clients.items():
            for _ in range(block):
                n += 1
                elapsed, ok, status, text = client.post(n)
                if ok:
                    samples[name].append(elapsed)
                else:
                    errors[name] += 1
                    first_error[name] = first_error[name] or f"{status}: {text}"
        done += block
    out = {name: dict(percentiles(samples[name]), errors=errors[name], first_error=first_error[name])
           for name, _ in peers}
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("warm")
    s.add_argument("--peer", action="append", required=True, help="NAME=URL (repeat)")
    s.add_argument("--count", type=int, default=500)
    s.add_argument("--block", type=int, default=20)
    s.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    {"warm": cmd_warm}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
