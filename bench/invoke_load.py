#!/usr/bin/env python3
"""bench/invoke_load.py — the Lambda Invoke client bench/function drives.

Every request is `POST URL` with the payload {"echo": N}; the echo function
answers N, and every answer is checked against the N that was sent. Plain
http.client (keep-alive where said), threads for concurrency; each subcommand
prints one JSON object. The client's own cost (~0.1 ms a request in Python) is
in every number, for every peer alike.

  warm     sequential keep-alive invocations, peers alternating in blocks
  gaps     one keep-alive connection; before each invocation sleep a gap
           (rotating over --gaps): 0 = back to back, < freeze grace, > grace
  cold     one invocation on a connection opened beforehand (X-Amz-Log-Type:
           Tail when --tail: Init Duration is read from the REPORT line; note
           that tandem then holds the answer until the log is complete, on a cold
           start until the first memory sample, so time without it)
  docker-cold  run a command (`docker run -d --rm …` of the peer), then poll the
           URL until the first good answer: command start → first response
  burst    N invocations at once (N threads, each its own connection, released
           together); every answer must match its index, every request id be new;
           with --retry-throttled a caller retries its 429s (Lambda's answer past
           the reserved concurrency) with a short back-off, as AWS SDKs do
  rate     C threads, each a keep-alive connection, for S seconds (used when
           wrk is not installed)
"""
import argparse
import base64
import http.client
import json
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse


def split_url(url):
    parts = urllib.parse.urlsplit(url)
    return parts.hostname, parts.port or 80, parts.path


class Invoker:
    """One keep-alive connection to one invocation URL."""

    def __init__(self, url, timeout=30):
        self.host, self.port, self.path = split_url(url)
        self.timeout = timeout
        self.conn = None

    def connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def invoke(self, n, headers=None):
        """Returns (ms, status, body, response headers); reconnects once if the
        kept-open connection was closed by the server."""
        body = json.dumps({"echo": n}).encode()
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.connect()
            try:
                t0 = time.perf_counter()
                self.conn.request("POST", self.path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                t1 = time.perf_counter()
                return (t1 - t0) * 1000, resp.status, data, dict(resp.getheaders())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


def good(n, status, data):
    return status == 200 and data.strip() == str(n).encode()


def cmd_warm(args):
    peers = []
    for spec in args.peer:
        name, url = spec.split("=", 1)
        peers.append((name, Invoker(url)))
    out = {name: {"samples_ms": [], "request_ids": [], "errors": 0, "first_error": None} for name, _ in peers}
    n = 0
    for name, inv in peers:  # warm-up (also opens the connections)
        for _ in range(args.warmup):
            n += 1
            inv.invoke(n)
    blocks = (args.count + args.block - 1) // args.block
    for b in range(blocks):
        order = peers if b % 2 == 0 else list(reversed(peers))
        for name, inv in order:
            for _ in range(min(args.block, args.count - b * args.block)):
                n += 1
                try:
                    ms, status, data, hdrs = inv.invoke(n)
                except Exception as e:  # noqa: BLE001 — every failure is counted
                    out[name]["errors"] += 1
                    out[name]["first_error"] = out[name]["first_error"] or repr(e)
                    inv.close()
                    continue
                if good(n, status, data):
                    out[name]["samples_ms"].append(round(ms, 4))
                    rid = hdrs.get("x-amzn-RequestId")
                    if rid:
                        out[name]["request_ids"].append(rid)
                else:
                    out[name]["errors"] += 1
                    out[name]["first_error"] = out[name]["first_error"] or f"{status} {data[:200]!r}"
    print(json.dumps(out))


def cmd_gaps(args):
    gaps = [float(g) for g in args.gaps.split(",")]
    inv = Invoker(args.url)
    out = {str(int(g) if g.is_integer() else g): {"samples_ms": [], "errors": 0} for g in gaps}
    n = 0
    for _ in range(args.warmup):
        n += 1
        inv.invoke(n)
    # Rotate the gaps (and after a long gap the next sample is the gap's own).
    for i in range(args.count * len(gaps)):
        g = gaps[(i + i // len(gaps)) % len(gaps)]
        key = str(int(g) if g.is_integer() else g)
        time.sleep(g / 1000)
        n += 1
        try:
            ms, status, data, _ = inv.invoke(n)
        except Exception:  # noqa: BLE001
            out[key]["errors"] += 1
            inv.close()
            continue
        if good(n, status, data):
            out[key]["samples_ms"].append(round(ms, 4))
        else:
            out[key]["errors"] += 1
    print(json.dumps(out))


INIT = re.compile(r"Init Duration: ([0-9.]+) ms")


def cmd_cold(args):
    inv = Invoker(args.url, timeout=60)
    inv.connect()  # the connection is not part of the cold path
    headers = {"X-Amz-Log-Type": "Tail"} if args.tail else {}
    n = args.index
    out = {"ok": False}
    try:
        ms, status, data, hdrs = inv.invoke(n, headers)
        out.update(ms=round(ms, 3), status=status, ok=good(n, status, data), id=hdrs.get("x-amzn-RequestId"))
        log = hdrs.get("X-Amz-Log-Result")
        if log:
            text = base64.b64decode(log).decode(errors="replace")
            m = INIT.search(text)
            out["init_ms"] = float(m.group(1)) if m else None
    except Exception as e:  # noqa: BLE001
        out["error"] = repr(e)
    print(json.dumps(out))


def cmd_docker_cold(args):
    """argv after `--` starts the peer (it prints the container id)."""
    host, port, path = split_url(args.url)
    body = json.dumps({"echo": args.index}).encode()
    t0 = time.perf_counter()
    run = subprocess.run(args.argv, capture_output=True, text=True)
    t_run = time.perf_counter()
    if run.returncode != 0:
        print(json.dumps({"ok": False, "error": run.stderr.strip()[-300:]}))
        return
    cid = run.stdout.strip().splitlines()[-1]
    out = {"ok": False, "container": cid[:12], "run_ms": round((t_run - t0) * 1000, 3)}
    deadline = t0 + 20
    attempts = 0
    while time.perf_counter() < deadline:
        attempts += 1
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if good(args.index, resp.status, data):
                out.update(ok=True, ms=round((time.perf_counter() - t0) * 1000, 3))
                break
        except (ConnectionError, http.client.HTTPException, OSError):
            pass  # a published port resets connections until the process listens
        finally:
            conn.close()
        time.sleep(0.001)
    out["attempts"] = attempts
    r0 = time.perf_counter()
    subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    out["remove_ms"] = round((time.perf_counter() - r0) * 1000, 3)
    print(json.dumps(out))


def cmd_burst(args):
    n = args.count
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        inv = Invoker(args.url, timeout=60)
        try:
            inv.connect()
            barrier.wait()
            t0 = time.perf_counter()
            throttled = 0
            while True:
                _, status, data, hdrs = inv.invoke(i)
                if status == 429 and args.retry_throttled and time.perf_counter() - t0 < 30:
                    throttled += 1  # an SDK retries throttling with back-off
                    time.sleep(random.uniform(0.001, 0.004) * min(throttled, 4))
                    continue
                break
            results[i] = {"ms": (time.perf_counter() - t0) * 1000, "status": status,
                          "body": data.decode(errors="replace"), "throttled": throttled,
                          "id": hdrs.get("x-amzn-RequestId") or hdrs.get("X-Amzn-RequestId")}
        except Exception as e:  # noqa: BLE001
            results[i] = {"error": repr(e)}
        finally:
            inv.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = (time.perf_counter() - t0) * 1000
    lost = [i for i, r in enumerate(results) if r is None or "error" in r]
    wrong = [i for i, r in enumerate(results) if r and "error" not in r and not good(i, r["status"], r["body"].encode())]
    ids = [r["id"] for r in results if r and r.get("id")]
    answers = [r["body"] for r in results if r and "error" not in r]
    out = {
        "count": n, "answered": n - len(lost), "lost": lost, "wrong": wrong,
        "duplicate_request_ids": len(ids) - len(set(ids)),
        "duplicate_answers": len(answers) - len(set(answers)),
        "wall_ms": round(wall, 3),
        "throttled": sum(r.get("throttled", 0) for r in results if r),
        "latencies_ms": sorted(round(r["ms"], 3) for r in results if r and "ms" in r),
        "first_error": next((r["error"] for r in results if r and "error" in r), None),
    }
    print(json.dumps(out))


def cmd_rate(args):
    stop = time.perf_counter() + args.seconds
    counts, errors = [0] * args.concurrency, [0] * args.concurrency

    def worker(k):
        inv = Invoker(args.url)
        n = k * 10_000_000
        while time.perf_counter() < stop:
            n += 1
            try:
                _, status, data, _ = inv.invoke(n)
                if good(n, status, data):
                    counts[k] += 1
                else:
                    errors[k] += 1
            except Exception:  # noqa: BLE001
                errors[k] += 1
                inv.close()
        inv.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(args.concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    print(json.dumps({"requests": sum(counts), "errors": sum(errors), "seconds": round(wall, 3),
                      "rate": round(sum(counts) / wall, 1), "client": "python"}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("warm")
    s.add_argument("--peer", action="append", required=True, help="NAME=URL (repeat)")
    s.add_argument("--count", type=int, default=500)
    s.add_argument("--block", type=int, default=50)
    s.add_argument("--warmup", type=int, default=50)
    s = sub.add_parser("gaps")
    s.add_argument("--url", required=True)
    s.add_argument("--gaps", default="0,20,300", help="milliseconds, comma-separated")
    s.add_argument("--count", type=int, default=20, help="samples per gap")
    s.add_argument("--warmup", type=int, default=5)
    s = sub.add_parser("cold")
    s.add_argument("--url", required=True)
    s.add_argument("--tail", action="store_true")
    s.add_argument("--index", type=int, default=1)
    s = sub.add_parser("docker-cold")
    s.add_argument("--url", required=True)
    s.add_argument("--index", type=int, default=1)
    s.add_argument("argv", nargs=argparse.REMAINDER)
    s = sub.add_parser("burst")
    s.add_argument("--url", required=True)
    s.add_argument("--count", type=int, default=100)
    s.add_argument("--retry-throttled", action="store_true",
                   help="retry a 429 (reserved concurrency reached) until answered, as AWS SDKs do")
    s = sub.add_parser("rate")
    s.add_argument("--url", required=True)
    s.add_argument("--concurrency", type=int, default=1)
    s.add_argument("--seconds", type=float, default=5)
    args = p.parse_args()
    if args.cmd == "docker-cold":
        if args.argv and args.argv[0] == "--":
            args.argv = args.argv[1:]
        if not args.argv:
            p.error("docker-cold: give the command after --")
    {"warm": cmd_warm, "gaps": cmd_gaps, "cold": cmd_cold, "docker-cold": cmd_docker_cold,
     "burst": cmd_burst, "rate": cmd_rate}[args.cmd](args)


if __name__ == "__main__":
    main()
