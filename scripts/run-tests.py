#!/usr/bin/env python3
"""Runs the workspace's test binaries several at a time (what `cargo test` does one after another).

Usage: scripts/run-tests.py [--jobs N] [--moto URL ...] < cargo-messages.json

Reads the JSON messages of `cargo test --workspace --no-run --message-format=json-render-diagnostics` on stdin
and runs every test executable with the environment `cargo test` gives it (working directory and
CARGO_MANIFEST_DIR: the package's root). Most of the suite's time is spent waiting (emulated Graph pacing,
retry back-off, moto round trips, child processes), so on a 2-core machine four binaries at once finish in about
a third of the time. Each worker slot has its own moto_server (`--moto`, one URL per slot) because moto answers
one request at a time (scripts/moto-server.py). A binary's output is printed whole when it ends; every binary
runs even after a failure, and the exit status is 1 if any failed.

Binaries start longest first, by the durations of the previous run (target/test-durations.json), so the slowest
one does not start last; a fresh clone starts integration tests before unit tests.
"""

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

DURATIONS = Path("target/test-durations.json")


def test_binaries(messages):
    """(name, executable, package root) of each test target, in the order cargo built them."""
    found = []
    for line in messages:
        line = line.strip()
        if not line.startswith("{"):
            continue
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        if not msg.get("profile", {}).get("test"):
            continue
        target = msg["target"]
        root = str(Path(msg["manifest_path"]).parent)
        # "path+file:///.../functions/core#entrawatch-core@0.1.0" (or "...#0.1.0" when the directory is the name)
        package = msg["package_id"].rsplit("#", 1)[-1].split("@")[0]
        if package[:1].isdigit():
            package = Path(root).name
        kinds = target["kind"]
        name = f"{package}::{target['name']}" if "test" in kinds else f"{package} (unit tests: {kinds[0]})"
        found.append((name, msg["executable"], root, "test" in kinds))
    return found


def order(binaries, previous):
    """Longest first by the last run's durations; unknown ones (a fresh clone) integration tests first."""
    def key(b):
        name, _, _, integration = b
        return (-previous.get(name, 1000.0 if integration else 0.0), name)
    return sorted(binaries, key=key)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--moto", action="append", default=[], help="a moto_server URL per worker slot")
    args = parser.parse_args()

    binaries = test_binaries(sys.stdin)
    if not binaries:
        print("run-tests: no test executables in cargo's messages", file=sys.stderr)
        return 1
    try:
        previous = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        previous = {}
    jobs = max(1, args.jobs)
    slots = queue.Queue()
    for slot in range(jobs):
        slots.put(args.moto[slot % len(args.moto)] if args.moto else None)

    lock = threading.Lock()
    durations, failed = {}, []
    started = time.monotonic()

    def run(binary):
        name, exe, root, _ = binary
        moto = slots.get()
        env = dict(os.environ, CARGO_MANIFEST_DIR=root, CARGO_PKG_NAME=name.split("::")[0].split(" ")[0])
        if moto:
            env["ENTRAWATCH_TEST_MOTO_URL"] = moto
        t0 = time.monotonic()
        try:
            proc = subprocess.run([exe], cwd=root, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            output, code = proc.stdout.decode(errors="replace"), proc.returncode
        finally:
            slots.put(moto)
        took = time.monotonic() - t0
        with lock:
            durations[name] = round(took, 1)
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            summary = [l for l in output.splitlines() if l.startswith("test result:")]
            print(f"\n---- {name}: {status} in {took:.1f}s ({exe})", flush=True)
            if code != 0:
                failed.append(name)
                print(output, flush=True)
            else:
                print(summary[-1] if summary else output.strip()[-500:], flush=True)

    pending = queue.Queue()
    for b in order(binaries, previous):
        pending.put(b)

    def worker():
        while True:
            try:
                b = pending.get_nowait()
            except queue.Empty:
                return
            run(b)

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    try:
        DURATIONS.parent.mkdir(exist_ok=True)
        DURATIONS.write_text(json.dumps(durations, indent=1, sort_keys=True))
    except OSError:
        pass
    wall = time.monotonic() - started
    print(f"\n{len(binaries)} test binaries in {wall:.0f}s ({sum(durations.values()):.0f}s of binary time, "
          f"{jobs} at a time)", flush=True)
    slowest = sorted(durations.items(), key=lambda kv: -kv[1])[:5]
    print("slowest: " + ", ".join(f"{n} {d:.0f}s" for n, d in slowest), flush=True)
    if failed:
        print(f"FAILED: {len(failed)} test binaries: " + ", ".join(failed), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
