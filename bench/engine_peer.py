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


def prepare_exited(engine, body):
    """A container that has run and exited: it serves `wait` and `logs` at once."""
    v = "/v" + engine.version
    cid = json.loads(engine.call("POST", v + "/containers/create", body=body))["Id"]
    engine.call("POST", f"{v}/containers/{cid}/start", ok=(204, 304))
    engine.call("POST", f"{v}/containers/{cid}/wait?condition=not-running")
    return cid


def calls_once(engine, body, expect, exited):
    """The lifecycle's calls where the engine answers quickly and steadily (as tandem-bench's CallSample)."""
    v = "/v" + engine.version
    now = time.perf_counter_ns
    t0 = now()
    status = json.loads(engine.call("POST", f"{v}/containers/{exited}/wait?condition=not-running"))
    t1 = now()
    out, _ = demultiplex(engine.call(
        "GET", f"{v}/containers/{exited}/logs?follow=0&stdout=1&stderr=1&timestamps=0&tail=all"))
    t2 = now()
    cid = json.loads(engine.call("POST", v + "/containers/create", body=body))["Id"]
    t3 = now()
    engine.call("DELETE", f"{v}/containers/{cid}?force=0&v=0")
    t4 = now()
    if status.get("StatusCode") != 0 or expect.encode() not in out:
        raise RuntimeError(f"container {exited[:12]}: {status}, output {out!r}")
    ms = lambda a, b: (b - a) / 1e6
    return {"wait": ms(t0, t1), "logs": ms(t1, t2), "create": ms(t2, t3), "remove": ms(t3, t4)}


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
    if args.serve:
        return serve(engine, body, expect, version, args)
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


def serve(engine, body, expect, version, args):
    """Commands on stdin until EOF or `quit`, one JSON line each: `run` (one
    lifecycle) or `calls N` (N rounds of the quick calls)."""
    print(json.dumps({
        "bench": "lifecycle", "client": "python http.client over AF_UNIX (one kept-open connection)",
        "ready": True, "image": args.image, "cmd": args.cmd, "labels": LABELS, "network": NETWORK,
        "api_version": version, "create_body": body, "warmup": args.warmup}, sort_keys=True), flush=True)
    exited = None
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        words = line.split()
        if words and words[0] == "calls":
            try:
                exited = exited or prepare_exited(engine, body)
                rounds = int(words[1]) if len(words) > 1 else 1
                samples, error = [calls_once(engine, body, expect, exited) for _ in range(rounds)], None
            except Exception as e:
                samples, error = None, str(e)
            print(json.dumps({"calls_ms": samples, "error": error, "connections_opened": engine.conn.connects},
                             sort_keys=True), flush=True)
            continue
        try:
            sample, error = lifecycle_once(engine, body, expect), None
        except Exception as e:  # reported to the driver, which counts failures
            sample, error = None, str(e)
        print(json.dumps({"sample_ms": sample, "error": error, "connections_opened": engine.conn.connects},
                         sort_keys=True), flush=True)
    if exited:
        engine.call("DELETE", f"/v{version}/containers/{exited}?force=1", ok=(204, 404))
    return None


def cmd_concurrent(args):
    """N lifecycles at once: N threads, each with its own kept-open connection."""
    import threading
    body = create_body(args.image, args.cmd)
    expect = "hello, " + " ".join(args.cmd)
    engines = [Engine(args.socket) for _ in range(args.count)]
    version = engines[0].negotiate()
    for engine in engines:
        engine.version = version
        engine.call("GET", "/_ping")  # open each connection before the clock starts
    for _ in range(args.warmup):
        lifecycle_once(engines[0], body, expect)
    rounds, errors, all_samples = [], [], []
    for _ in range(args.rounds):
        results = [None] * args.count
        barrier = threading.Barrier(args.count + 1)

        def worker(i):
            barrier.wait()
            try:
                results[i] = lifecycle_once(engines[i], body, expect)
            except Exception as e:
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.count)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter_ns()
        for t in threads:
            t.join()
        wall = (time.perf_counter_ns() - t0) / 1e6
        ok = [r for r in results if isinstance(r, dict)]
        errors += [str(r) for r in results if not isinstance(r, dict)]
        all_samples += ok
        totals = [r["total"] for r in ok]
        rounds.append({"wall_ms": round(wall, 3), "failures": args.count - len(ok),
                       "lifecycle_median_ms": round(statistics.median(totals), 3) if totals else None,
                       "lifecycle_max_ms": round(max(totals), 3) if totals else None})
    return {
        "bench": "concurrent", "client": "python http.client, one thread and one kept-open connection per lifecycle",
        "image": args.image, "cmd": args.cmd, "labels": LABELS, "network": NETWORK, "in_flight": args.count,
        "rounds": rounds, "wall_median_ms": round(statistics.median(r["wall_ms"] for r in rounds), 3),
        "failures": len(errors), "errors": errors[:10],
        "step_median_ms": summarize(all_samples, STEPS)[0] if all_samples else {},
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


def docker_run_argv(image, cmd):
    argv = ["docker", "run", "--rm"]
    for key, value in LABELS.items():
        argv += ["--label", f"{key}={value}"]
    return argv + [image] + list(cmd)


def docker_run_once(argv, expect):
    """Times one `docker run --rm` (ms), from spawning the CLI to its exit."""
    t0 = time.perf_counter_ns()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = (time.perf_counter_ns() - t0) / 1e6
    if done.returncode != 0 or expect.encode() not in done.stdout:
        raise RuntimeError(f"{' '.join(argv)}: exit {done.returncode}: {done.stdout!r} {done.stderr!r}")
    return {"total": elapsed}


def cmd_docker_run(args):
    argv = docker_run_argv(args.image, args.cmd)
    expect = "hello, " + " ".join(args.cmd)
    for _ in range(args.warmup):
        docker_run_once(argv, expect)
    samples = [docker_run_once(argv, expect) for _ in range(args.count)]
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
    defaults = {"lifecycle": 20, "ping": 200, "docker-run": 20, "concurrent": 16}
    for name in defaults:
        p = sub.add_parser(name)
        p.add_argument("--socket", default="/var/run/docker.sock")
        p.add_argument("--count", type=int, default=defaults[name])
        p.add_argument("--warmup", type=int, default=1 if name != "ping" else 50)
        p.add_argument("--samples", action="store_true")
        if name == "concurrent":
            p.add_argument("--rounds", type=int, default=1, help="bursts of --count lifecycles")
        if name == "lifecycle":
            p.add_argument("--serve", action="store_true",
                           help="after the warm-up, answer stdin commands (`run`, `calls N`), one JSON line each")
        if name != "ping":
            p.add_argument("--image", default="tandem/hello:latest")
            p.add_argument("--cmd", nargs="+", default=["bench"])
    args = parser.parse_args()
    run = {"lifecycle": cmd_lifecycle, "ping": cmd_ping, "docker-run": cmd_docker_run,
           "concurrent": cmd_concurrent}[args.mode]
    report = run(args)
    if report is not None:
        print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
