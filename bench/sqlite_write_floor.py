#!/usr/bin/env python3
"""SQLite's own cost of one profile write, run synchronously: the floor a writer that ran
its transactions on the calling thread would have (docs/BENCHMARKS.md, "What limits
each figure").

    python3 bench/sqlite_write_floor.py          # one write a transaction
    GROUP=10 python3 bench/sqlite_write_floor.py # ten writes a transaction (group commit)

Starts the release `plinth serve` bench/run builds (run that first), seeds it the same
way, stops it, then runs the statements of `PATCH /api/v1/orgs/{org}` (the data_version
read, the org read and update, the chain head, the audit row, the head update, the
invalidation row) through Python's sqlite3 module, with the server's settings, round
robin over the 100 orgs. Python's own call overhead is included, so the figure is a
ceiling on SQLite's cost, not its exact value. Standard library only.
"""

import hashlib
import importlib.machinery
import importlib.util
import os
import sqlite3
import tempfile
import time
import uuid

# bench/run has no .py suffix; load it for its server and seeding helpers.
_loader = importlib.machinery.SourceFileLoader(
    "bench_run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run"))
_spec = importlib.util.spec_from_loader("bench_run", _loader)
bench = importlib.util.module_from_spec(_spec)
_loader.exec_module(bench)

WRITES = int(os.environ.get("WRITES", "20000"))
GROUP = int(os.environ.get("GROUP", "1"))
ORG = ("SELECT o.id, o.handle, o.display_name, o.avatar_url, o.token_min_issued_at, "
       "o.created_at, o.updated_at FROM orgs o WHERE o.id = ? AND o.deleted_at IS NULL")
UPDATE = ("UPDATE orgs AS o SET display_name = COALESCE(?, o.display_name), updated_at = ? "
          "WHERE o.id = ? AND o.deleted_at IS NULL RETURNING id, handle, display_name, "
          "avatar_url, token_min_issued_at, created_at, updated_at")
ENTRY = ("INSERT INTO audit_log (id, chain, seq, created_at, org_id, org_handle, actor_id, "
         "actor_handle, actor_ip, user_agent, action, target_type, target_id, target_handle, "
         "data, request_id, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def main():
    workdir = tempfile.mkdtemp(prefix="plinth-sqlite-floor-")
    path = os.path.join(workdir, "plinth.db")
    p, port, _ = bench.serve(f"sqlite://{path}", workdir, "sqlite")
    try:
        bench.seed(port)
    finally:
        bench.stop(p)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
                   "busy_timeout = 10000", "mmap_size = 0"):
        db.execute(f"PRAGMA {pragma}")
    orgs = [row[0] for row in db.execute("SELECT id FROM orgs ORDER BY handle")]
    started = time.perf_counter()
    for i in range(WRITES):
        org, chain = orgs[i % len(orgs)], f"org:{orgs[i % len(orgs)]}"
        if i % GROUP == 0:
            db.execute("BEGIN IMMEDIATE")
            db.execute("PRAGMA data_version").fetchall()
        db.execute(ORG, (org,)).fetchall()
        db.execute(UPDATE, (f"Bench {i}", i, org)).fetchall()
        seq, prev = db.execute("SELECT head_seq, head_hash FROM audit_chains WHERE chain = ?",
                               (chain,)).fetchone()
        digest = hashlib.sha256(f"{prev}{i}".encode()).hexdigest()
        db.execute(ENTRY, (str(uuid.uuid4()), chain, seq + 1, i, org, "org", "u", "bench",
                           "127.0.0.1", "wrk", "org.update", "org", org, "org",
                           '{"display_name":{"before":"a","after":"b"}}', str(uuid.uuid4()),
                           prev, digest))
        db.execute("UPDATE audit_chains SET head_seq = ?, head_hash = ? WHERE chain = ?",
                   (seq + 1, digest, chain))
        db.execute("INSERT INTO invalidation_log (origin, payload, created_at) VALUES (?, ?, ?)",
                   ("bench", f'{{"org":"{org}"}}', i))
        if i % GROUP == GROUP - 1 or i == WRITES - 1:
            db.execute("COMMIT")
    secs = time.perf_counter() - started
    db.close()
    print(f"{WRITES:,} writes, {GROUP} a transaction: {secs:.2f} s = {WRITES / secs:,.0f}/s, "
          f"{secs / WRITES * 1e6:.0f} µs a write (Python's calls included)")


if __name__ == "__main__":
    main()
