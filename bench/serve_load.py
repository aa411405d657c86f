#!/usr/bin/env python3
"""Hostile-client load test of `clearbox log serve` and `clearbox witness serve` (loopback only).

Starts each server on 127.0.0.1 with a free port, then runs one attack at a time while an
honest client keeps making requests (GET /checkpoint for the log, a re-cosigning POST
/add-checkpoint for the witness):
  oversized   POSTs announcing a 1 TB Content-Length (authorized for the log) -> 413
  chunked     parallel endless chunked POSTs -> cut at the body limit
  slow        slow-loris connections sending one header byte a second -> dropped at the timeout
  flood       many idle connections at once -> capped, oldest evicted
  bad-token   POST /add with a wrong token and an unsent 60 KB body -> 403 (log only)
Prints, per attack: honest-client latency (p50/p99/max, failures), the server's peak RSS
(sampled /proc/<pid>/status VmRSS) and what the attackers saw.

Usage: bench/serve_load.py [--clearbox PATH] [--flood 500] [--slow 100] [--chunked 8]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"


def rss_kib(pid, field="VmRSS"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Samples the server's RSS every 20 ms; peak() since the last reset()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.max, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.max = max(self.max, rss_kib(self.pid))
            time.sleep(0.02)

    def reset(self):
        self.max = rss_kib(self.pid)


def connect(port, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout)
    return s


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def status_of(response):
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def exchange(port, request, timeout=10):
    try:
        with connect(port, timeout) as s:
            s.sendall(request)
            return read_response(s)
    except OSError:
        return b""


class Honest(threading.Thread):
    """Makes one request every 50 ms on a fresh connection and records its latency."""

    def __init__(self, port, request, want):
        super().__init__(daemon=True)
        self.port, self.request, self.want = port, request, want
        self.latencies, self.failures, self.stop = [], 0, False

    def run(self):
        while not self.stop:
            start = time.monotonic()
            r = exchange(self.port, self.request, timeout=15)
            took = (time.monotonic() - start) * 1000
            if status_of(r) == self.want:
                self.latencies.append(took)
            else:
                self.failures += 1
            time.sleep(0.05)

    def reset(self):
        self.latencies, self.failures = [], 0

    def summary(self):
        lat = sorted(self.latencies)
        if not lat:
            return f"honest: no successful request, {self.failures} failed"
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        return (f"honest: {len(lat)} ok, {self.failures} failed, latency p50 "
                f"{statistics.median(lat):.1f} ms p99 {p99:.1f} ms max {lat[-1]:.1f} ms")


def attack_oversized(port, path, headers, n=200):
    codes = {}
    req = (f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}"
           f"Content-Length: 1000000000000\r\n\r\n").encode()
    for _ in range(n):
        c = status_of(exchange(port, req))
        codes[c] = codes.get(c, 0) + 1
    return f"{n} requests, statuses {codes}"


def attack_chunked(port, path, headers, parallel, seconds=10):
    sent = [0] * parallel
    cut = [False] * parallel

    def one(i):
        chunk = b"4000\r\n" + b"z" * 0x4000 + b"\r\n"
        deadline = time.monotonic() + seconds
        try:
            with connect(port) as s:
                s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}"
                          "Transfer-Encoding: chunked\r\n\r\n".encode())
                while time.monotonic() < deadline:
                    s.sendall(chunk)
                    sent[i] += len(chunk)
        except OSError:
            cut[i] = True

    threads = [threading.Thread(target=one, args=(i,)) for i in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (f"{parallel} endless chunked POSTs: {sum(cut)} cut by the server, at most "
            f"{max(sent) >> 10} KiB sent on one before the cut")


def attack_slow(port, n, seconds=15):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(port))
        except OSError:
            pass
    request = b"GET /checkpoint HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 64 + b"\r\n\r\n"
    dropped_at = {}
    start = time.monotonic()
    for i in range(seconds):
        for k, s in enumerate(socks):
            if k in dropped_at:
                continue
            try:
                s.send(request[i:i + 1])
            except OSError:
                dropped_at[k] = time.monotonic() - start
        time.sleep(1)
    for s in socks:
        s.close()
    when = sorted(dropped_at.values())
    median = f", median drop after {statistics.median(when):.1f} s" if when else ""
    return f"{len(socks)} slow-loris connections, {len(dropped_at)} dropped within {seconds} s{median}"


def attack_flood(port, n, seconds=5):
    socks = []
    for _ in range(n):
        try:
            socks.append(connect(port))
        except OSError:
            break
    time.sleep(seconds)
    closed = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    return f"{len(socks)} idle connections held {seconds} s, {closed} closed by the server"


def attack_bad_token(port, n=500):
    codes = {}
    req = (b"POST /add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong-token\r\n"
           b"Content-Length: 60000\r\n\r\n")
    start = time.monotonic()
    for _ in range(n):
        c = status_of(exchange(port, req))
        codes[c] = codes.get(c, 0) + 1
    took = (time.monotonic() - start) * 1000 / n
    return f"{n} wrong-token POSTs (body never sent): statuses {codes}, {took:.1f} ms each"


def start_server(cmd, log):
    out = open(log, "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):
        text = open(log).read()
        at = text.find("http://127.0.0.1:")
        if at >= 0 and "\n" in text[at:]:
            port = int(text[at + 17:].split("/")[0])
            return proc, port
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"server did not start: {open(log).read()}")


def run_phases(name, proc, port, honest, phases):
    sampler = Sampler(proc.pid)
    sampler.start()
    honest.start()
    time.sleep(1)
    print(f"== {name} (pid {proc.pid}, port {port}); idle RSS {rss_kib(proc.pid) >> 10} MiB")
    for label, attack in [("baseline", lambda: "no attack (2 s)")] + phases:
        honest.reset()
        sampler.reset()
        if label == "baseline":
            time.sleep(2)
        what = attack()
        time.sleep(0.5)
        print(f"  {label:10s} peak RSS {sampler.max >> 10:4d} MiB | {honest.summary()}\n"
              f"  {'':10s} {what}")
    honest.stop = True
    sampler.stop = True
    honest.join()
    print(f"  server VmHWM (peak RSS over the whole run) {rss_kib(proc.pid, 'VmHWM') >> 10} MiB")
    proc.terminate()
    proc.wait(timeout=30)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clearbox", default=os.path.join(here, "..", "build", "debug", "src", "cli",
                                                       "clearbox"))
    ap.add_argument("--flood", type=int, default=500)
    ap.add_argument("--slow", type=int, default=100)
    ap.add_argument("--chunked", type=int, default=8)
    args = ap.parse_args()
    cb = args.clearbox
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        def run(*cmd):
            subprocess.run([cb, *cmd], check=True, stdout=subprocess.DEVNULL)

        run("keygen", "bench.example/log", "-o", f"{tmp}/log")
        run("keygen", "bench.example/witness", "-o", f"{tmp}/witness")
        run("log", "init", f"{tmp}/logdir", "--origin", "bench.example/log", "--key",
            f"{tmp}/log.skey")
        entries = []
        for i in range(300):
            path = f"{tmp}/e{i}"
            with open(path, "w") as f:
                f.write(f"entry {i}\n")
            entries.append(path)
        run("log", "append", f"{tmp}/logdir", *entries)
        token = "bench-token-0123456789"
        with open(f"{tmp}/token", "w") as f:
            f.write(token + "\n")
        auth = f"Authorization: Bearer {token}\r\n"

        proc, port = start_server([cb, "log", "serve", f"{tmp}/logdir", "--listen", f"{HOST}:0",
                                   "--token-file", f"{tmp}/token"], f"{tmp}/log.out")
        honest = Honest(port, b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n", 200)
        run_phases("clearbox log serve", proc, port, honest, [
            ("oversized", lambda: attack_oversized(port, "/add", auth)),
            ("chunked", lambda: attack_chunked(port, "/add", auth, args.chunked)),
            ("slow", lambda: attack_slow(port, args.slow)),
            ("flood", lambda: attack_flood(port, args.flood)),
            ("bad-token", lambda: attack_bad_token(port)),
        ])

        checkpoint = open(f"{tmp}/logdir/checkpoint", "rb").read()
        proc, port = start_server([cb, "witness", "serve", "--state", f"{tmp}/state", "--key",
                                   f"{tmp}/witness.skey", "--log-key", f"{tmp}/log.vkey",
                                   "--listen", f"{HOST}:0"], f"{tmp}/witness.out")
        first = b"old 0\n\n" + checkpoint
        r = exchange(port, b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                     % len(first) + first)
        if status_of(r) != 200:
            sys.exit(f"witness refused the first checkpoint: {r!r}")
        again = b"old 300\n\n" + checkpoint
        honest = Honest(port, b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                        % len(again) + again, 200)
        run_phases("clearbox witness serve", proc, port, honest, [
            ("oversized", lambda: attack_oversized(port, "/add-checkpoint", "")),
            ("chunked", lambda: attack_chunked(port, "/add-checkpoint", "", args.chunked)),
            ("slow", lambda: attack_slow(port, args.slow)),
            ("flood", lambda: attack_flood(port, args.flood)),
        ])


if __name__ == "__main__":
    main()
