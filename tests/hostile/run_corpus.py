#!/usr/bin/env python3
"""Runs clearbox on every case of the hostile corpus and checks each expectation and bound.

Usage: run_corpus.py --clearbox BIN --work DIR [--only NAME] [--keep]

Builds the corpus with make_corpus.py into DIR/corpus, runs `clearbox unpack|scan` on each
case (a hard kill at 10x the case's time bound), and checks, per case:
  - the exit code is 0 or 3 (scan: also 5), never a crash or signal;
  - wall-clock time, peak resident memory of the clearbox process (getrusage of the child)
    and bytes written (blocks allocated under the output directory) within the bounds;
  - nothing outside the output directory: every symlink under it resolves inside it, and the
    work directory holds nothing but the corpus and the outputs;
  - the expected files, carved containers and problem kinds are in the manifest, and the
    number of objects under the output directory is within max_entries.
Prints one line per case with its figures, then 'N passed, M failed'; exits 1 on a failure.
"""

import argparse
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def disk_usage(root):
    """Bytes allocated on disk and object count under root (links not followed; fd-relative,
    so paths longer than PATH_MAX are counted too)."""
    used = 0
    count = 0
    for _, dirnames, filenames, dirfd in os.fwalk(root):
        for name in dirnames + filenames:
            st = os.lstat(name, dir_fd=dirfd)
            used += st.st_blocks * 512
            count += 1
    return used, count


def escaping_links(root):
    """Symlinks under root whose resolved target is outside root (or cannot be checked)."""
    real_root = os.path.realpath(root)
    bad = []
    for dirpath, dirnames, filenames, dirfd in os.fwalk(root):
        for name in dirnames + filenames:
            if not stat.S_ISLNK(os.lstat(name, dir_fd=dirfd).st_mode):
                continue
            path = os.path.join(dirpath, name)
            if len(path) >= 4000:
                bad.append("%s: too deep to resolve here" % os.path.relpath(path, root)[:80])
                continue
            target = os.path.realpath(path)
            if target != real_root and not target.startswith(real_root + os.sep):
                bad.append("%s -> %s" % (os.path.relpath(path, root), target))
    return bad


def run_case(clearbox, corpus, work, c):
    out = os.path.join(work, "out-" + c["name"])
    if os.path.exists(out):
        shutil.rmtree(out)
    cmd = [clearbox, c["command"], os.path.join(corpus, c["file"]), "-o", out] + c["args"]
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = "1700000000"
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    hard_limit = 10 * c["max_seconds"]
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() - start > hard_limit:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    log = proc.stdout.read().decode("utf-8", "replace")
    rss = usage.ru_maxrss * 1024
    failures = []
    if killed:
        failures.append("killed after %d s" % hard_limit)
    elif os.WIFSIGNALED(status):
        failures.append("died of signal %d" % os.WTERMSIG(status))
    else:
        code = os.WEXITSTATUS(status)
        allowed = (0, 3, 5) if c["command"] == "scan" else (0, 3)
        if code not in allowed:
            failures.append("exit code %d" % code)
    # A hang or a costly loop grows both wall and CPU time; a machine busy with other tests only
    # grows the wall time (and a multi-threaded run on an idle machine only the CPU time). So
    # the bound applies to the smaller of the two.
    cpu = usage.ru_utime + usage.ru_stime
    if min(seconds, cpu) > c["max_seconds"]:
        failures.append("took %.1f s wall, %.1f s CPU > %d s" % (seconds, cpu, c["max_seconds"]))
    if rss > c["max_rss_bytes"]:
        failures.append("peak RSS %d MiB > %d MiB" % (rss >> 20, c["max_rss_bytes"] >> 20))
    written, entries = disk_usage(out) if os.path.isdir(out) else (0, 0)
    if written > c["max_written_bytes"]:
        failures.append("wrote %d MiB > %d MiB" % (written >> 20, c["max_written_bytes"] >> 20))
    if c["max_entries"] is not None and entries > c["max_entries"]:
        failures.append("%d objects under the output > %d" % (entries, c["max_entries"]))
    if os.path.isdir(out):
        for link in escaping_links(out):
            failures.append("symlink leaves the output: " + link)
    manifest_path = os.path.join(out, "unpacked" if c["command"] == "scan" else "",
                                 "manifest.json")
    manifest = None
    if not killed:
        try:
            with open(manifest_path, encoding="utf-8") as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            failures.append("no readable manifest: %s" % e)
    if manifest is not None:
        paths = [f["path"] for f in manifest.get("files", [])]
        for suffix in c["expect_files"]:
            if not any(p.endswith(suffix) for p in paths):
                failures.append("expected file *%s not unpacked" % suffix)
        containers = [ch.get("container", "") for ch in manifest.get("chunks", [])]
        for suffix in c["expect_containers"]:
            if not any(p.endswith(suffix) for p in containers):
                failures.append("expected %s to be carved" % suffix)
        kinds = {p.get("kind") for p in manifest.get("problems", [])}
        for kind in c["expect_problems"]:
            if kind not in kinds:
                failures.append("expected a '%s' problem" % kind)
    figures = "%.2f s (%.2f s CPU), %d MiB RSS, %.1f MiB written, %d objects" % (
        seconds, cpu, rss >> 20, written / (1 << 20), entries)
    return failures, figures, log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clearbox", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only")
    ap.add_argument("--keep", action="store_true", help="keep the outputs")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    if os.path.exists(work):
        shutil.rmtree(work)
    corpus = os.path.join(work, "corpus")
    subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), corpus], check=True)
    with open(os.path.join(corpus, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    passed = failed = 0
    for c in cases:
        if args.only and c["name"] != args.only:
            continue
        failures, figures, log = run_case(os.path.abspath(args.clearbox), corpus, work, c)
        # Nothing may appear in the work directory but the corpus and the outputs.
        for name in os.listdir(work):
            if name != "corpus" and not name.startswith("out-"):
                failures.append("stray file in the work directory: " + name)
        if os.path.lexists("/tmp/clearbox-corpus-abs-escape"):
            failures.append("an absolute member path was written to /tmp")
        if failures:
            failed += 1
            print("FAIL %-26s %s" % (c["name"], figures))
            for f in failures:
                print("     " + f)
            print("     clearbox said:\n" + "\n".join("       " + l for l in log.splitlines()[-15:]))
        else:
            passed += 1
            print("ok   %-26s %s" % (c["name"], figures))
        if not args.keep:
            shutil.rmtree(os.path.join(work, "out-" + c["name"]), ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
