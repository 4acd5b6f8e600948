#!/usr/bin/env python3
"""The peers of bench/engine that are not tandem.

`lifecycle` and `ping` are a minimal Docker Engine API client: http.client over
the engine's Unix socket, one kept-open connection, no parsing beyond what the
calls need. Its lifecycle makes the same calls as tandem's EngineClient, on the
same versioned paths, with the same JSON body, so its per-step medians are "the
engine's own time" for those calls.

`docker-run` times `docker run --rm IMAGE CMD...` (the docker CLI) with the same
clock, for the same image and Cmd.

Each mode prints one JSON object on stdout.
"""
import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import time

STEPS = ["create", "start", "wait", "logs", "remove", "total"]
LABELS = {"tandem.bench": "engine"}
NETWORK = "bridge (engine default: no HostConfig sent)"
NEWEST_SUPPORTED = (1, 47)  # as tandem's client negotiates: min(server, 1.47)


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over AF_UNIX; http.client keeps the connection open between requests."""

    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path
        self.connects = 0

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock
        self.connects += 1


class Engine:
    def __init__(self, socket_path):
        self.conn = UnixHTTPConnection(socket_path)
        self.version = None

    def call(self, method, path, body=None, ok=(200, 201, 204)):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
        return data

    def negotiate(self):
        info = json.loads(self.call("GET", "/version"))
        server = tuple(int(x) for x in info.get("ApiVersion", "1.41").split("."))
        chosen = min(server, NEWEST_SUPPORTED)
        self.version = f"{chosen[0]}.{chosen[1]}"
        return self.version


def create_body(image, cmd):
    """The body tandem's client sends: sorted keys, no spaces, '/' escaped (Foundation's JSONEncoder)."""
    spec = {"Image": image, "Cmd": cmd, "Labels": LABELS}
    return json.dumps(spec, sort_keys=True, separators=(",", ":")).replace("/", "\\/")


def demultiplex(data):
    """Splits the engine's 8-byte-header log frames into (stdout, stderr)."""
    out, err, i = bytearray(), bytearray(), 0
    while i + 8 <= len(data):
        stream, size = data[i], int.from_bytes(data[i + 4:i + 8], "big")
        payload = data[i + 8:i + 8 + size]
        (err if stream == 2 else out).extend(payload)
        i += 8 + size
    return bytes(out), bytes(err)


def lifecycle_once(engine, body, expect):
    v = "/v" + engine.version
    now = time.perf_counter_ns
    t0 = now()
    cid = json.loads(engine.call("POST", v + "/containers/create", body=body))["Id"]
    t1 = now()
    try:
        engine.call("POST", f"{v}/containers/{cid}/start", ok=(204, 304))
        t2 = now()
        status = json.loads(engine.call("POST", f"{v}/containers/{cid}/wait?condition=not-running"))
        t3 = now()
        out, err = demultiplex(engine.call(
            "GET", f"{v}/containers/{cid}/logs?follow=0&stdout=1&stderr=1&timestamps=0&tail=all"))
        t4 = now()
        engine.call("DELETE", f"{v}/containers/{cid}?force=0&v=0")
        t5 = now()
    except BaseException:
        try:
            engine.call("DELETE", f"{v}/containers/{cid}?force=1", ok=(204, 404))
        except Exception:
            pass
        raise
    if status.get("StatusCode") != 0:
        raise RuntimeError(f"container {cid[:12]} exited {status}: {err!r}")
    if expect.encode() not in out:
        raise RuntimeError(f"container {cid[:12]} printed {out!r}, expected {expect!r}")
    ms = lambda a, b: (b - a) / 1e6
    return {"create": ms(t0, t1), "start": ms(t1, t2), "wait": ms(t2, t3),
            "logs": ms(t3, t4), "remove": ms(t4, t5), "total": ms(t0, t5)}


def summarize(samples, steps):
    return ({s: round(statistics.median([x[s] for x in samples]), 3) for s in steps},
            {s: [round(x[s], 3) for x in samples] for s in steps})


def cmd_lifecycle(args):
    engine = Engine(args.socket)
    version = engine.negotiate()
    body = create_body(args.image, args.cmd)
    expect = "hello, " + " ".join(args.cmd)
    for _ in range(args.warmup):
        lifecycle_once(engine, body, expect)
    connects = engine.conn.connects
    samples = [lifecycle_once(engine, body, expect) for _ in range(args.count)]
    medians, all_samples = summarize(samples, STEPS)
    return {
        "bench": "lifecycle", "client": "python http.client over AF_UNIX (one kept-open connection)",
        "image": args.image, "cmd": args.cmd, "labels": LABELS, "network": NETWORK,
        "api_version": version, "create_body": body, "count": args.count, "warmup": args.warmup,
        "median_ms": medians, "samples_ms": all_samples if args.samples else None,
        "connections_opened_measured": engine.conn.connects - connects,
    }


def cmd_ping(args):
    engine = Engine(args.socket)
    for _ in range(args.warmup):
        engine.call("GET", "/_ping")
    connects = engine.conn.connects
    times = []
    for _ in range(args.count):
        t0 = time.perf_counter_ns()
        body = engine.call("GET", "/_ping")
        times.append((time.perf_counter_ns() - t0) / 1e3)
        if body != b"OK":
            raise RuntimeError(f"GET /_ping answered {body!r}")
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {
        "bench": "ping", "client": "python http.client over AF_UNIX (one kept-open connection)",
        "count": args.count, "warmup": args.warmup,
        "p50_us": round(statistics.median(times), 3), "p90_us": round(q[89], 3), "p99_us": round(q[98], 3),
        "connections_opened_measured": engine.conn.connects - connects,
        "samples_us": [round(t, 3) for t in times] if args.samples else None,
    }


def cmd_docker_run(args):
    argv = ["docker", "run", "--rm"]
    for key, value in LABELS.items():
        argv += ["--label", f"{key}={value}"]
    argv += [args.image] + args.cmd
    expect = "hello, " + " ".join(args.cmd)

    def once():
        t0 = time.perf_counter_ns()
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if done.returncode != 0 or expect.encode() not in done.stdout:
            raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stdout!r} {done.stderr!r}")
        return {"total": elapsed}

    for _ in range(args.warmup):
        once()
    samples = [once() for _ in range(args.count)]
    medians, all_samples = summarize(samples, ["total"])
    return {
        "bench": "lifecycle", "client": "docker CLI: " + " ".join(argv),
        "image": args.image, "cmd": args.cmd, "labels": LABELS, "network": NETWORK,
        "count": args.count, "warmup": args.warmup,
        "median_ms": medians, "samples_ms": all_samples if args.samples else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("lifecycle", "ping", "docker-run"):
        p = sub.add_parser(name)
        p.add_argument("--socket", default="/var/run/docker.sock")
        p.add_argument("--count", type=int, default=20 if name != "ping" else 200)
        p.add_argument("--warmup", type=int, default=1 if name != "ping" else 50)
        p.add_argument("--samples", action="store_true")
        if name != "ping":
            p.add_argument("--image", default="tandem/hello:latest")
            p.add_argument("--cmd", nargs="+", default=["bench"])
    args = parser.parse_args()
    run = {"lifecycle": cmd_lifecycle, "ping": cmd_ping, "docker-run": cmd_docker_run}[args.mode]
    print(json.dumps(run(args), sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
