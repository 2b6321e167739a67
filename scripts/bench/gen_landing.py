#!/usr/bin/env python3
"""Generate one day of landed `embeddings.ready` records for the streaming benchmark.

    python3 scripts/bench/gen_landing.py --out DIR --gb 2.0 --date 2026-11-21 \
        --partitions 4 --companies 20 --seed 7

Writes the Kafka-Connect HDFS-sink landing layout (TimeBasedPartitioner, hourly paths,
flush.size=1000, JSON format with the InsertField transform adding the record timestamp):

    DIR/embeddings.ready/year=2026/month=11/day=21/hour=HH/
        embeddings.ready+<partition>+<startOffset:010>+<endOffset:010>.json

End offsets are inclusive; offsets are contiguous per partition from 0; a file holds 1000
records, the last file of an hour (per partition) may hold fewer. One compact JSON object
per line, newline-terminated, keys in this order:

    {"chunk_id":"doc_<24 hex>_c0003","document_id":"doc_<24 hex>","company_id":"company-07",
     "vector":[1536 floats like -0.0123456789],"kafka_timestamp":<epoch ms>}

Each record is ~21 KB. Timestamps cover the whole UTC day; per partition they increase with a
small jitter: at most 1.8 s out of order (so nothing is late for a 5 s bounded-out-of-orderness
watermark applied per partition), and every record lies in the hour directory of its own
timestamp. Documents (5-60 chunks each, in a row, in one partition as with key = document_id)
belong to companies picked with a skewed distribution.

Deterministic: the same flags give byte-identical files (vectors come from a pool of a few
hundred precomputed strings, reused at random). The tree is written under DIR.tmp-<pid> and
renamed to DIR at the end; DIR/_manifest.json records the flags and the totals
(records, bytes, files) and marks a complete data set. An existing DIR is refused.
"""

import argparse
import calendar
import json
import os
import random
import shutil
import sys
import time

TOPIC = "embeddings.ready"
DIMENSIONS = 1536
FLUSH_SIZE = 1000
POOL_SIZE = 384
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Per-record jitter around the (sorted) production time: +-900 ms, so two records of one
# partition are never more than 1.8 s out of order.
JITTER_MS = 900


def vector_string(rng):
    """One embedding as JSON text: `[c1,c2,...]`, components like -0.0123456789."""
    parts = []
    for _ in range(DIMENSIONS):
        r = rng.getrandbits(64)
        mag = (r >> 1) % 1_000_000_000
        if (r >> 40) & 3:
            mag //= 3  # skewed small, like a normalised 1536-d vector's components
        parts.append(("-0.%010d" if r & 1 else "0.%010d") % mag)
    return "[" + ",".join(parts) + "]"


def hex_id(rng, n):
    return "%0*x" % (n, rng.getrandbits(4 * n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="landing root (created; must not exist)")
    ap.add_argument("--gb", type=float, default=2.0, help="total size in GB (1e9 bytes)")
    ap.add_argument("--date", default="2026-11-21", help="UTC day, YYYY-MM-DD")
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--companies", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if a.gb <= 0 or a.partitions < 1 or a.companies < 1:
        ap.error("--gb, --partitions and --companies must be positive")
    try:
        y, m, d = (int(x) for x in a.date.split("-"))
        day_start = calendar.timegm((y, m, d, 0, 0, 0)) * 1000
    except ValueError:
        ap.error("--date: expected YYYY-MM-DD, got %s" % a.date)
    out = os.path.abspath(a.out)
    if os.path.exists(out):
        sys.exit("gen_landing: %s exists; remove it first" % out)
    t0 = time.monotonic()

    pool_rng = random.Random(a.seed * 1_000_003)
    pool = [vector_string(pool_rng) for _ in range(POOL_SIZE)]
    companies = ["company-%02d" % i for i in range(a.companies)]
    # Skewed tenants: a few big ones, a long tail.
    weights = [1.0 / (i + 1) ** 0.8 for i in range(a.companies)]

    # Records per partition from the expected record size.
    overhead = len('{"chunk_id":"doc_%s_c0000","document_id":"doc_%s","company_id":"%s",'
                   '"vector":,"kafka_timestamp":1795000000000}\n' % ("0" * 24, "0" * 24, companies[-1]))
    avg = sum(map(len, pool)) / len(pool) + overhead
    per_part = max(1, round(a.gb * 1e9 / a.partitions / avg))

    tmp = "%s.tmp-%d" % (out, os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    day_dir = os.path.join(tmp, TOPIC, "year=%04d" % y, "month=%02d" % m, "day=%02d" % d)
    total_records = total_bytes = total_files = 0
    try:
        for p in range(a.partitions):
            rng = random.Random(a.seed * 1_000_003 + 1 + p)
            # Production times: sorted uniform over the day, then jitter kept inside the hour
            # of the production time (clamping is monotone, so disorder stays <= 2*JITTER_MS,
            # and the hour sequence of a partition never goes back).
            base = sorted(rng.randrange(DAY_MS) for _ in range(per_part))
            stamps = []
            for b in base:
                h0 = b - b % HOUR_MS
                t = b + rng.randint(-JITTER_MS, JITTER_MS)
                stamps.append(day_start + min(max(t, h0), h0 + HOUR_MS - 1))

            offset = 0
            doc_left = 0
            doc = company = None
            chunk = 0
            i = 0
            while i < per_part:
                hour = (stamps[i] - day_start) // HOUR_MS
                # One file: up to FLUSH_SIZE records of the same hour.
                j = i
                while j < per_part and j - i < FLUSH_SIZE and (stamps[j] - day_start) // HOUR_MS == hour:
                    j += 1
                lines = []
                for k in range(i, j):
                    if doc_left == 0:
                        doc = "doc_" + hex_id(rng, 24)
                        company = rng.choices(companies, weights)[0]
                        doc_left = rng.randint(5, 60)
                        chunk = 0
                    lines.append('{"chunk_id":"%s_c%04d","document_id":"%s","company_id":"%s",'
                                 '"vector":%s,"kafka_timestamp":%d}\n'
                                 % (doc, chunk, doc, company, pool[rng.randrange(POOL_SIZE)], stamps[k]))
                    chunk += 1
                    doc_left -= 1
                hdir = os.path.join(day_dir, "hour=%02d" % hour)
                os.makedirs(hdir, exist_ok=True)
                name = "%s+%d+%010d+%010d.json" % (TOPIC, p, offset, offset + (j - i) - 1)
                data = "".join(lines).encode()
                with open(os.path.join(hdir, name), "wb") as f:
                    f.write(data)
                total_bytes += len(data)
                total_files += 1
                offset += j - i
                i = j
            total_records += offset
            print("gen_landing: partition %d: %d records" % (p, offset), file=sys.stderr)

        manifest = {
            "topic": TOPIC,
            "date": a.date,
            "gb": a.gb,
            "partitions": a.partitions,
            "companies": a.companies,
            "seed": a.seed,
            "records": total_records,
            "bytes": total_bytes,
            "files": total_files,
            "generator": "scripts/bench/gen_landing.py",
        }
        with open(os.path.join(tmp, "_manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    secs = time.monotonic() - t0
    print("gen_landing: %d records, %d bytes, %d files in %s (%.1f s, %.0f MB/s)"
          % (total_records, total_bytes, total_files, out, secs, total_bytes / 1e6 / secs),
          file=sys.stderr)
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
