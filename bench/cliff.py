"""The write cliff of the embedded store, one variable at a time.

    .venv/bin/python bench/cliff.py [--count 150000] [--shape mention|small] [--batch 10000]
        [--indexes ours|two|none] [--write insert|upsert] [--server-flag=--standalone ...]

Starts a fresh SecantusDB server (the embedded store's own flags, plus any ``--server-flag``),
writes ``--count`` documents in batches and prints the throughput of every 10k, the server's
CPU share and RSS, so a cliff shows as the row where the rate falls and stays down.
``mention`` documents are shaped as the dashboard bench seeds them (about 550 bytes of BSON),
``small`` ones are ``{_id, published_at, brands, n}``. Each probe stops after ``--budget``
seconds, whatever it reached. docs/scaling.md ("The write cliff") has the figures.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pymongo import ASCENDING, DESCENDING, MongoClient, UpdateOne
from pymongo.errors import NetworkTimeout

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listening.settings import settings  # noqa: E402
from listening.store.embedded import LISTENING_LINE  # noqa: E402

WORDS = ("flight gate crew seat bag delayed cancelled refund thanks great awful late wifi "
         "lounge boarding pilot plane trip airport ticket miles service help").split()
BRANDS = ["Delta", "United", "American", "Southwest", "JetBlue", "Virgin America"]
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
TICK = os.sysconf("SC_CLK_TCK")


def document(i: int, shape: str, rng: random.Random) -> dict:
    published = NOW - timedelta(seconds=int(90 * 86400 * rng.random()))
    brand = rng.choice(BRANDS)
    if shape == "small":
        return {"_id": f"m{i:08d}", "published_at": published, "brands": [brand], "n": i}
    return {"_id": f"m{i:08d}", "brands": [brand], "source": "twitter", "source_kind": "bench",
            "url": f"https://example.com/{i}", "author": f"user{i % 50_000}", "title": None,
            "text": f"@{brand} " + " ".join(rng.choices(WORDS, k=14)), "published_at": published,
            "collected_at": published, "first_collected_at": published, "lang": "en",
            "sentiment": {"compound": 0.0, "label": "neutral"}, "issues": ["Delay"], "intent": [],
            "matched_terms": {brand: [brand]}, "run_id": "bench"}


def start(folder: Path, flags: list[str]) -> tuple[subprocess.Popen, str]:
    log = folder / "server.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", "0",
                                 "--storage-path", str(folder / "db"), "--cache-size", settings().db_cache,
                                 *flags], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(600):
        match = LISTENING_LINE.search(log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return proc, f"mongodb://{match[1]}:{match[2]}/?directConnection=true"
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the server did not start; see {log}")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--shape", choices=("mention", "small"), default="mention")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--indexes", choices=("ours", "two", "none"), default="ours",
                        help="ours: published_at, (brands, published_at), collected_at; two: the first two")
    parser.add_argument("--write", choices=("insert", "upsert"), default="insert")
    parser.add_argument("--server-flag", action="append", default=[], dest="flags",
                        help="an extra flag for the server, e.g. --server-flag=--standalone")
    parser.add_argument("--budget", type=float, default=300.0, help="stop after this many seconds")
    parser.add_argument("--stall", type=float, default=120.0, help="call it a stall when one batch takes longer")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-cliff-") as tmp:
        proc, uri = start(Path(tmp), args.flags)
        client: MongoClient = MongoClient(uri, tz_aware=True, socketTimeoutMS=int(args.stall * 1000))
        try:
            coll = client.cliff.mentions
            if args.indexes != "none":
                coll.create_index([("published_at", DESCENDING)])
                coll.create_index([("brands", ASCENDING), ("published_at", DESCENDING)])
            if args.indexes == "ours":
                coll.create_index([("collected_at", ASCENDING)])
            print(f"{args.count:,} {args.shape} documents, batches of {args.batch:,}, indexes {args.indexes}, "
                  f"{args.write}, server flags {args.flags or 'none'}; uptime: {os.getloadavg()[0]:.2f} load")
            began = last = time.perf_counter()
            cpu_last, done = cpu_s(proc.pid), 0
            while done < args.count and time.perf_counter() - began < args.budget:
                docs = [document(i, args.shape, rng) for i in range(done, min(done + args.batch, args.count))]
                try:
                    if args.write == "insert":
                        coll.insert_many(docs, ordered=False)
                    else:
                        coll.bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": d}, upsert=True) for d in docs],
                                        ordered=False)
                except NetworkTimeout:
                    print(f"  STALLED: the batch after {done:,} took over {args.stall:.0f} s "
                          f"(server CPU {100 * (cpu_s(proc.pid) - cpu_last) / (time.perf_counter() - last):.0f}%)")
                    break
                before, done = done, done + len(docs)
                if done // 10_000 > before // 10_000 or done == args.count:
                    now, cpu = time.perf_counter(), cpu_s(proc.pid)
                    print(f"  {done:>9,}  {10_000 / (now - last):7,.0f}/s  server CPU {100 * (cpu - cpu_last) / (now - last):4.0f}%"
                          f"  RSS {rss_mb(proc.pid):5.0f} MB  ({now - began:.0f} s)", flush=True)
                    last, cpu_last = now, cpu
            elapsed = time.perf_counter() - began
            print(f"{done:,} in {elapsed:.0f} s: {done / elapsed:,.0f}/s overall")
        finally:
            client.close()
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
