#!/usr/bin/env python3
"""The daily chunk report (chunks per company and document, one landed day), computed by Polars.

    python scripts/bench/report_polars.py --landing DIR --date 2026-11-21 --output OUT [--threads 2]

Reads DIR/embeddings.ready/year=YYYY/month=MM/day=DD/hour=*/*.json with scan_ndjson and a
schema of only company_id and document_id (String; the other fields are not materialised),
group_by + len, sorted by company_id, document_id, written with write_parquet (snappy, as the
others) to the layout `lakeshore report daily-chunks` writes:

    OUT/daily_chunk_count/date=YYYY-MM-DD/part-00000.parquet   company_id String,
                                                              document_id String,
                                                              total_chunks Int64
    OUT/daily_chunk_count/date=YYYY-MM-DD/_SUCCESS

--threads sets POLARS_MAX_THREADS (it must be set before polars is imported).
Needs the polars package (the venv of scripts/bench/report.sh).
"""

import argparse
import os
import sys
import time

TOPIC = "embeddings.ready"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--landing", required=True, help="landing root (a path or file://path)")
    ap.add_argument("--date", default="2026-11-21")
    ap.add_argument("--output", required=True, help="reports root (a path or file://path)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    os.environ["POLARS_MAX_THREADS"] = str(a.threads)
    import polars as pl

    strip = lambda u: u[len("file://"):] if u.startswith("file://") else u  # noqa: E731
    root, out_root = strip(a.landing), strip(a.output)
    y, m, d = a.date.split("-")
    glob = os.path.join(root, TOPIC, "year=%s" % y, "month=%s" % m, "day=%s" % d, "hour=*", "*.json")
    out_dir = os.path.join(os.path.abspath(out_root), "daily_chunk_count", "date=%s" % a.date)
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "part-00000.parquet")
    t0 = time.monotonic()
    df = (
        pl.scan_ndjson(glob, schema={"company_id": pl.String, "document_id": pl.String})
        .group_by("company_id", "document_id")
        .agg(pl.len().cast(pl.Int64).alias("total_chunks"))
        .sort("company_id", "document_id")
        .collect()
    )
    df.write_parquet(out, compression="snappy")
    open(os.path.join(out_dir, "_SUCCESS"), "wb").close()
    print("polars: %d rows, %d chunks to %s in %.2f s (polars %s, %d threads)"
          % (df.height, df["total_chunks"].sum(), out, time.monotonic() - t0, pl.__version__,
             pl.thread_pool_size()))


if __name__ == "__main__":
    sys.exit(main())
