#!/usr/bin/env python3
"""Abuse figures of issue 10 (Medium), against a real `plinth serve`, all on 127.0.0.1:

1. RSS after 200 concurrent logins (twice; each from its own forwarded address, so only
   the hashing queue holds them back).
2. A legitimate login's latency, alone and during a burst of 60 concurrent signups from
   one address.
3. SIGTERM while 100 connections hold half a request head: time to exit, and whether the
   usage counted in memory reached the database.

    python3 bench/abuse.py target/release/plinth

Standard library only. Prints one line per figure.
"""

import concurrent.futures as cf
import http.client
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "correct horse battery"


def start(binary, workdir, extra):
    args = [binary, "serve", "--bind", "127.0.0.1:0", "--dns-bind", "127.0.0.1:0",
            "--metrics-bind", "off", "--trusted-proxies", "127.0.0.1",
            "--database-url", f"sqlite://{workdir}/plinth.db", *extra]
    env = dict(os.environ, PLINTH_LOG="warn")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(f"{workdir}/log", "w"),
                            env=env, text=True)
    line = proc.stdout.readline()
    addr = line.split(" HTTP on ")[1].split()[0]
    host, port = addr.rsplit(":", 1)
    return proc, int(port)


def call(port, method, path, body=None, token=None, forwarded=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if forwarded:
        headers["x-forwarded-for"] = forwarded
    started = time.perf_counter()
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    data = res.read()
    took = time.perf_counter() - started
    conn.close()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    return res.status, parsed, took


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def signup(port, handle, forwarded="192.0.2.1"):
    return call(port, "POST", "/api/v1/signup",
                {"handle": handle, "email": f"{handle}@example.com", "password": PASSWORD},
                forwarded=forwarded)


def login(port, who, password=PASSWORD, forwarded="192.0.2.1"):
    return call(port, "POST", "/api/v1/login", {"login": who, "password": password},
                forwarded=forwarded)


def counts(statuses):
    out = {}
    for s in statuses:
        out[s] = out.get(s, 0) + 1
    return dict(sorted(out.items()))


def memory_and_latency(binary):
    with tempfile.TemporaryDirectory() as workdir:
        proc, port = start(binary, workdir, [])
        try:
            assert signup(port, "ann")[0] == 201
            assert signup(port, "legit", forwarded="198.51.100.9")[0] == 201
            print(f"RSS at start: {rss_mib(proc.pid):.0f} MiB")
            pool = cf.ThreadPoolExecutor(max_workers=200)
            for round_ in range(2):
                def one(i):
                    who, password = [("ann", PASSWORD), ("ann@example.com", PASSWORD),
                                     (f"nobody{i}", "wrong"), (f"nobody{i}@example.com", "wrong")][i % 4]
                    return login(port, who, password, forwarded=f"10.{round_}.{i // 250}.{i % 250}")[0]
                statuses = list(pool.map(one, range(200)))
                time.sleep(0.5)
                print(f"RSS after 200 concurrent logins (round {round_ + 1}): "
                      f"{rss_mib(proc.pid):.0f} MiB; answers {counts(statuses)}")

            alone = [login(port, "legit", forwarded="198.51.100.9")[2] for _ in range(5)]
            print(f"legitimate login alone: median {statistics.median(alone) * 1000:.0f} ms")
            # Wait out the per-address window of the login rounds? Not needed: other addresses.
            burst = [pool.submit(signup, port, f"burst{i}", "203.0.113.7") for i in range(60)]
            during = []
            for _ in range(5):
                status, _, took = login(port, "legit", forwarded="198.51.100.9")
                assert status == 200, status
                during.append(took)
            signups = [f.result()[0] for f in burst]
            print(f"legitimate login during a 60-signup burst from one address: "
                  f"max {max(during) * 1000:.0f} ms, median {statistics.median(during) * 1000:.0f} ms; "
                  f"signups {counts(signups)}")
            print(f"RSS at the end: {rss_mib(proc.pid):.0f} MiB")
        finally:
            proc.kill()
            proc.wait()


def sigterm_with_half_open(binary):
    with tempfile.TemporaryDirectory() as workdir:
        proc, port = start(binary, workdir, ["--shutdown-timeout", "2s",
                                             "--header-read-timeout", "5m"])
        assert signup(port, "ann")[0] == 201
        token = login(port, "ann")[1]["token"]
        status, org, _ = call(port, "POST", "/api/v1/orgs", {"handle": "acme"}, token=token)
        assert status == 201
        for _ in range(25):
            assert call(port, "GET", "/api/v1/orgs/acme", token=token)[0] == 200
        sockets = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /api/v1/orgs/acme HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            sockets.append(s)
        time.sleep(0.3)
        asked = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        took = time.perf_counter() - asked
        db = sqlite3.connect(f"{workdir}/plinth.db")
        (stored,) = db.execute(
            "SELECT COALESCE(SUM(value), 0) FROM usage_daily WHERE org_id = ? AND metric = 'api_requests'",
            (org["id"],)).fetchone()
        (used,) = db.execute("SELECT COUNT(*) FROM tokens WHERE last_used_at IS NOT NULL").fetchone()
        db.close()
        for s in sockets:
            s.close()
        print(f"SIGTERM with 100 half-open connections (deadline 2 s): exit {code} after {took:.2f} s; "
              f"api_requests stored {stored} of 25; tokens with last_used_at {used} of 1")


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/plinth"
    memory_and_latency(binary)
    sigterm_with_half_open(binary)
