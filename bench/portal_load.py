#!/usr/bin/env python3
"""Load test of the lab portal on loopback, with scan workers in separate processes (issue 19).

For each worker count (default 1, 2, 4, and 4 with one killed) on a fresh database of a throw-away PostgreSQL
cluster (scripts/pg-test-cluster.sh):
  - `clearbox serve --db URL --workers 0` (the web server claims nothing itself) and N
    `clearbox worker --db URL --data DATA` processes sharing the data directory;
  - 50 clients upload the same small image (scripts/make-demo-image.sh) at once through the
    API, each as its own release; a reader keeps requesting /api/v1/releases/ID meanwhile
    (page latency);
  - in the runs marked "k" (default: 4 workers), one worker is killed with SIGKILL (its whole
    process group, scan child included) while it holds a job; its job comes back when the lease
    runs out (the other runs measure throughput without a loss);
  - optionally (--restart-db) PostgreSQL itself is killed with SIGKILL and started again twice:
    once with half the uploads acknowledged and the rest in flight, once while scans run;
    server and workers must reconnect by themselves;
  - at the end every release must have exactly one job, done, with its results on disk, and
    every acknowledged upload must be there.
Prints one row per worker count: wall time, jobs/min, how busy the machine's cores were (all
processes: scans, diffs, PostgreSQL, the server, this script; the ceiling of scaling),
queue wait p50/p95 (from the database: upload to last claim), page latency p50/p95, lost jobs
retried, failures.

Usage: bench/portal_load.py [--clearbox PATH] [--uploads 50] [--workers 1,2,4,4k] [--lease 10]
                            [--restart-db] [--dir DIR]
Exit status: 0 when every run completed every job exactly once with no lost upload.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = os.path.join(ROOT, "scripts", "pg-test-cluster.sh")


def cpu_times():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def quantile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


class Cluster:
    def __init__(self, state):
        self.state = state
        subprocess.run(["bash", CLUSTER, "start", state], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(state, "host")) as f:
            self.host = f.read().strip()
        with open(os.path.join(state, "port")) as f:
            self.port = f.read().strip()

    def url(self, db):
        return f"postgresql:///{db}?host={self.host}&port={self.port}&user=postgres"

    def sql(self, db, statement):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url(db),
                              "-c", statement], check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def try_sql(self, db, statement):
        try:
            return self.sql(db, statement)
        except subprocess.CalledProcessError:
            return None

    def restart(self):
        subprocess.run(["bash", CLUSTER, "restart", self.state], check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run(["bash", CLUSTER, "stop", self.state], stdout=subprocess.DEVNULL)


def seed(cluster, db, clearbox, data):
    """Migrates the database (--init-admin) and adds a vendor with a project and an API token."""
    subprocess.run([clearbox, "serve", "--data", data, "--db", cluster.url(db), "--init-admin",
                    "admin"], input="an admin password for the bench\n", text=True, check=True,
                   stdout=subprocess.DEVNULL)
    token = "cbx_" + secrets.token_hex(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    project = cluster.sql(db, f"""
        INSERT INTO organisations (name, kind) VALUES ('Bench vendor', 'vendor');
        INSERT INTO users (name, password_hash, created_at) VALUES ('uploader', '', 0);
        INSERT INTO memberships SELECT u.id, o.id, 'vendor' FROM users u, organisations o
          WHERE u.name = 'uploader' AND o.name = 'Bench vendor';
        INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at)
          SELECT '{digest}', id, 'bench', 0, 0 FROM users WHERE name = 'uploader';
        INSERT INTO projects (vendor_organisation_id, name, description, created_at)
          SELECT id, 'router', '', 0 FROM organisations WHERE name = 'Bench vendor'
          RETURNING id;""")
    return token, int(project.splitlines()[-1])


def start_server(clearbox, data, url):
    server = subprocess.Popen([clearbox, "serve", "--data", data, "--db", url, "--workers", "0",
                               "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    line = server.stdout.readline()
    port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
    return server, port


def request(port, method, path, token, body=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = "application/octet-stream"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def job_states(cluster, db):
    rows = cluster.try_sql(db, "SELECT state, count(*) FROM jobs GROUP BY state")
    if rows is None:
        return None
    return {state: int(n) for state, n in (r.split("|") for r in rows.splitlines() if r)}


def run(args, cluster, workers, kill, image, index):
    db = f"bench_{index}_{workers}"
    cluster.sql("postgres", f"DROP DATABASE IF EXISTS {db}")
    cluster.sql("postgres", f"CREATE DATABASE {db}")
    data = os.path.join(args.dir, f"data-{index}-{workers}")
    shutil.rmtree(data, ignore_errors=True)
    url = cluster.url(db)
    token, project = seed(cluster, db, args.clearbox, data)
    server, port = start_server(args.clearbox, data, url)
    worker_logs = [open(os.path.join(args.dir, f"worker-{index}-{workers}-{w}.log"), "w")
                   for w in range(workers)]
    worker_procs = [subprocess.Popen([args.clearbox, "worker", "--data", data, "--db", url,
                                      "--lease", str(args.lease)], stdout=subprocess.DEVNULL,
                                     stderr=log, start_new_session=True) for log in worker_logs]
    acknowledged, refused = [], []
    latencies, release_ids = [], []
    stop = threading.Event()
    lock = threading.Lock()

    def upload(i):
        for attempt in range(20):
            try:
                status, body = request(port, "POST",
                                       f"/api/v1/projects/{project}/releases?version=v{i}",
                                       token, image)
            except OSError:
                status, body = 0, b""
            if status == 201:
                with lock:
                    acknowledged.append(i)
                    release_ids.append(int(body.split(b'"id":')[1].split(b",")[0]))
                return
            time.sleep(0.5)  # the database may be restarting: try again
        with lock:
            refused.append((i, status))

    def reader():
        while not stop.is_set():
            with lock:
                ids = list(release_ids)
            if ids:
                start = time.monotonic()
                try:
                    request(port, "GET", f"/api/v1/releases/{random.choice(ids)}", token,
                            timeout=10)
                    latencies.append(time.monotonic() - start)
                except OSError:
                    pass
            time.sleep(0.2)  # 5 reads/s: measuring, not loading

    restarts = 0

    def restart_during_uploads():
        # Once half the uploads are acknowledged, PostgreSQL dies and comes back while the rest
        # are in flight: the acknowledged ones must all be kept.
        nonlocal restarts
        while not stop.is_set():
            with lock:
                half = len(acknowledged) >= args.uploads // 2
            if half:
                cluster.restart()
                restarts += 1
                return
            time.sleep(0.05)

    started = time.monotonic()
    cpu_before = cpu_times()
    threads = [threading.Thread(target=upload, args=(i,)) for i in range(args.uploads)]
    reading = threading.Thread(target=reader)
    restarter = threading.Thread(target=restart_during_uploads) if args.restart_db else None
    for t in threads:
        t.start()
    reading.start()
    if restarter:
        restarter.start()
    for t in threads:
        t.join()
    uploaded = time.monotonic() - started
    if restarter:
        restarter.join()

    killed = None
    restarted = False
    deadline = started + args.timeout
    while time.monotonic() < deadline:
        states = job_states(cluster, db) or {}
        if kill and killed is None and states.get("running", 0) > 0:
            holder = cluster.try_sql(db, "SELECT worker FROM jobs WHERE state = 'running' "
                                         "ORDER BY id LIMIT 1")
            pid = int(holder.split(":")[1]) if holder else None
            victim = next((p for p in worker_procs if p.pid == pid), None)
            if victim is not None:
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()
                killed = pid
        if args.restart_db and not restarted and states.get("done", 0) >= args.uploads // 3:
            cluster.restart()  # again, while scans run and finish
            restarted = True
            restarts += 1
        if states.get("done", 0) + states.get("failed", 0) >= args.uploads:
            break
        time.sleep(0.5)
    wall = time.monotonic() - started
    cpu_after = cpu_times()
    busy = 100.0 * (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    stop.set()
    reading.join()

    rows = cluster.sql(db, "SELECT r.version, j.state, j.attempts, j.started_at - j.created_at, "
                           "(SELECT count(*) FROM jobs k WHERE k.release_id = r.id) "
                           "FROM releases r JOIN jobs j ON j.release_id = r.id ORDER BY r.id")
    jobs = [r.split("|") for r in rows.splitlines() if r]
    done = [j for j in jobs if j[1] == "done"]
    waits = [float(j[3]) for j in done]
    retried = sum(int(j[2]) - 1 for j in jobs)
    versions = {j[0] for j in jobs}
    lost_uploads = [i for i in acknowledged if f"v{i}" not in versions]
    one_job_each = all(j[4] == "1" for j in jobs)
    results_missing = [rid for rid in release_ids
                       if not os.path.exists(os.path.join(data, "results", str(rid),
                                                          "report.json"))]
    for p in worker_procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in worker_procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    # The workers' structured logs: JSON lines, one job.done per job they finished.
    logged_done, bad_lines = 0, 0
    for log in worker_logs:
        log.close()
        with open(log.name) as f:
            for line in f:
                try:
                    event = json.loads(line)
                    logged_done += event.get("event") == "job.done"
                except ValueError:
                    bad_lines += 1
    ok = (len(done) == args.uploads and not lost_uploads and one_job_each and not refused
          and not results_missing and not bad_lines and logged_done == len(done))
    return {
        "workers": workers, "uploaded_s": uploaded, "wall_s": wall, "cpu_busy": busy,
        "jobs_per_min": 60.0 * len(done) / wall if wall else 0.0,
        "wait_p50": quantile(waits, 0.5), "wait_p95": quantile(waits, 0.95),
        "page_p50_ms": 1000 * quantile(latencies, 0.5),
        "page_p95_ms": 1000 * quantile(latencies, 0.95), "reads": len(latencies),
        "done": len(done), "retried": retried, "killed": killed, "db_restarts": restarts,
        "lost_uploads": len(lost_uploads), "refused": len(refused),
        "missing_results": len(results_missing), "one_job_each": one_job_each, "ok": ok,
        "logged_done": logged_done, "bad_log_lines": bad_lines,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clearbox", default=os.path.join(ROOT, "build/release/src/cli/clearbox"))
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--workers", default="1,2,4,4k",
                        help="worker counts, one run each; a trailing k: one worker is killed "
                             "with SIGKILL while it holds a job")
    parser.add_argument("--lease", type=int, default=10)
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--restart-db", action="store_true")
    parser.add_argument("--dir", default=os.path.join(ROOT, "build/bench-portal"))
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    image_path = os.path.join(args.dir, "router.bin")
    if not os.path.exists(image_path):
        subprocess.run(["bash", os.path.join(ROOT, "scripts/make-demo-image.sh"), args.dir],
                       check=True, stdout=subprocess.DEVNULL)
    with open(image_path, "rb") as f:
        image = f.read()
    cluster = Cluster(os.path.join(args.dir, "pg"))
    results = []
    try:
        for index, spec in enumerate(args.workers.split(",")):
            workers, kill = int(spec.rstrip("k")), spec.endswith("k")
            results.append(run(args, cluster, workers, kill, image, index))
            r = results[-1]
            print(f"workers={r['workers']}: {r['done']}/{args.uploads} done in {r['wall_s']:.1f} s"
                  f" (uploads acknowledged in {r['uploaded_s']:.1f} s)", flush=True)
    finally:
        cluster.stop()
    print(f"\nportal load: {args.uploads} concurrent uploads of a {len(image) / 1e6:.1f} MB image,"
          f" lease {args.lease} s, {os.cpu_count()} cores"
          + (", PostgreSQL killed and restarted mid-run" if args.restart_db else ""))
    print("| workers | wall s | jobs/min | vs 1 worker | CPU busy | queue wait p50/p95 s |"
          " page p50/p95 ms | worker killed | db restarts | jobs retried | lost uploads |"
          " exactly once |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = results[0]["jobs_per_min"] if results else 0
    for r in results:
        ratio = r["jobs_per_min"] / base if base else 0
        label = f"{r['workers']} (1 killed)" if r["killed"] else str(r["workers"])
        print(f"| {label} | {r['wall_s']:.1f} | {r['jobs_per_min']:.1f} | {ratio:.2f}x |"
              f" {r['cpu_busy']:.0f}% |"
              f" {r['wait_p50']:.0f} / {r['wait_p95']:.0f} |"
              f" {r['page_p50_ms']:.1f} / {r['page_p95_ms']:.1f} |"
              f" {'yes' if r['killed'] else 'no'} | {r['db_restarts']} | {r['retried']} |"
              f" {r['lost_uploads']} |"
              f" {'yes' if r['one_job_each'] and r['done'] == args.uploads else 'NO'} |")
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        print(f"FAIL workers={r['workers']}: {r}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
