#!/usr/bin/env python3
"""The daily chunk report (chunks per company and document, one landed day), computed by DuckDB.

    python scripts/bench/report_duckdb.py --landing DIR --date 2026-11-21 --output OUT [--threads 2]

Reads DIR/embeddings.ready/year=YYYY/month=MM/day=DD/hour=*/*.json (newline-delimited JSON;
read_ndjson with explicit columns, so only company_id and document_id are extracted), counts
records per (company_id, document_id) and writes them ordered by company_id, document_id with
COPY ... TO (FORMAT parquet) to the layout `lakeshore report daily-chunks` writes:

    OUT/daily_chunk_count/date=YYYY-MM-DD/part-00000.parquet   company_id VARCHAR,
                                                              document_id VARCHAR,
                                                              total_chunks BIGINT
    OUT/daily_chunk_count/date=YYYY-MM-DD/_SUCCESS

Needs the duckdb package (the venv of scripts/bench/report.sh).
"""

import argparse
import os
import sys
import time

import duckdb

TOPIC = "embeddings.ready"


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--landing", required=True, help="landing root (a path or file://path)")
    ap.add_argument("--date", default="2026-11-21")
    ap.add_argument("--output", required=True, help="reports root (a path or file://path)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    strip = lambda u: u[len("file://"):] if u.startswith("file://") else u  # noqa: E731
    root, out_root = strip(a.landing), strip(a.output)
    y, m, d = a.date.split("-")
    glob = os.path.join(root, TOPIC, "year=%s" % y, "month=%s" % m, "day=%s" % d, "hour=*", "*.json")
    out_dir = os.path.join(os.path.abspath(out_root), "daily_chunk_count", "date=%s" % a.date)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "part-00000.parquet")
    t0 = time.monotonic()
    con = duckdb.connect(config={"threads": a.threads})
    # Projection pushdown: with explicit columns DuckDB extracts only these two keys (the
    # vectors are still tokenised, never materialised). No hive columns, no sampling.
    con.execute(
        """
        COPY (
          SELECT company_id, document_id, count(*) AS total_chunks
          FROM read_ndjson(?, columns = {company_id: 'VARCHAR', document_id: 'VARCHAR'},
                           hive_partitioning = false, maximum_object_size = 67108864)
          GROUP BY company_id, document_id
          ORDER BY company_id, document_id
        ) TO %s (FORMAT parquet)
        """ % sql_str(out),
        [glob],
    )
    open(os.path.join(out_dir, "_SUCCESS"), "wb").close()
    rows, chunks = con.execute("SELECT count(*), sum(total_chunks) FROM read_parquet(?)", [out]).fetchone()
    print("duckdb: %d rows, %d chunks to %s in %.2f s (duckdb %s, %d threads)"
          % (rows, chunks, out, time.monotonic() - t0, duckdb.__version__, a.threads))


if __name__ == "__main__":
    sys.exit(main())
