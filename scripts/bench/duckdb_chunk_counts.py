#!/usr/bin/env python3
"""Per-minute chunk counts per company over one landed day, computed by DuckDB.

    python scripts/bench/duckdb_chunk_counts.py --landing DIR --date 2026-11-21 \
        --output-file out.jsonl [--threads 2]

Reads DIR/embeddings.ready/year=YYYY/month=MM/day=DD/hour=*/*.json (newline-delimited JSON,
only company_id and kafka_timestamp projected), buckets kafka_timestamp (epoch ms, UTC) into
1-minute tumbling windows by integer division, counts per (window, company) and writes JSON
lines ordered by window then company:

    {"window_start":"2026-11-21T10:05:00","window_end":"2026-11-21T10:06:00","company_id":"acme","chunk_count":42}

A batch engine sees every record, so this is the "no late data" answer the streaming jobs
must reproduce (the data set is generated so that no record is late for a 5 s watermark).
Needs the duckdb package (the bench venv of scripts/bench/stream.sh).
"""

import argparse
import os
import sys
import time

import duckdb

TOPIC = "embeddings.ready"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--landing", required=True, help="landing root (a path or file://path)")
    ap.add_argument("--date", default="2026-11-21")
    ap.add_argument("--output-file", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    root = a.landing[len("file://"):] if a.landing.startswith("file://") else a.landing
    y, m, d = a.date.split("-")
    glob = os.path.join(root, TOPIC, "year=%s" % y, "month=%s" % m, "day=%s" % d, "hour=*", "*.json")
    out = os.path.abspath(a.output_file)
    t0 = time.monotonic()
    con = duckdb.connect(config={"threads": a.threads})
    # Projection pushdown: with explicit columns DuckDB extracts only these two keys (the
    # vectors are still tokenised, never materialised). No hive columns, no sampling.
    con.execute(
        """
        COPY (
          WITH minutes AS (
            SELECT (kafka_timestamp // 60000) * 60000 AS ws, company_id
            FROM read_ndjson(?, columns = {company_id: 'VARCHAR', kafka_timestamp: 'BIGINT'},
                             hive_partitioning = false, maximum_object_size = 67108864)
          )
          SELECT strftime(make_timestamp(ws * 1000), '%Y-%m-%dT%H:%M:%S') AS window_start,
                 strftime(make_timestamp((ws + 60000) * 1000), '%Y-%m-%dT%H:%M:%S') AS window_end,
                 company_id,
                 count(*) AS chunk_count
          FROM minutes
          GROUP BY ws, company_id
          ORDER BY ws, company_id
        ) TO {out} (FORMAT json)
        """.replace("{out}", "'" + out.replace("'", "''") + "'"),
        [glob],
    )
    n = con.execute("SELECT count(*) FROM read_ndjson(?, columns = {company_id: 'VARCHAR'})", [out]).fetchone()[0]
    print("duckdb: %d rows to %s in %.1f s (duckdb %s, %d threads)"
          % (n, out, time.monotonic() - t0, duckdb.__version__, a.threads), file=sys.stderr)


if __name__ == "__main__":
    main()
