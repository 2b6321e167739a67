#!/usr/bin/env python3
"""The daily chunk report as the PySpark EMR step computes it, on a local[2] Spark.

    python scripts/bench/report_pyspark.py --landing DIR --date 2026-11-21 --output OUT [--master local[2]]

The step, unchanged:

    df = spark.read.json("DIR/embeddings.ready/year=Y/month=M/day=D/*/")
    (df.groupBy("company_id", "document_id").count()
       .withColumnRenamed("count", "total_chunks")
       .write.mode("overwrite").parquet("OUT/daily_chunk_count/date=Y-M-D"))

So: no schema (Spark infers it by reading every record once, then reads them again for the
job), every field parsed, rows in no particular order, snappy Parquet part files + _SUCCESS
written by Spark's committer. Only the session differs from EMR: local master, the UI and
the console progress bar off, log level WARN. Python stops the session and reaps the JVM
before exiting (so GNU time accounts for it). Needs pyspark 3.5 and Java 8/11/17 on PATH
(the venv of scripts/bench/report.sh).
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
    ap.add_argument("--master", default="local[2]")
    a = ap.parse_args()
    t0 = time.monotonic()
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    landing = a.landing.rstrip("/")
    if not landing.startswith(("file://", "hdfs://", "s3://", "s3a://")):
        landing = "file://" + os.path.abspath(landing)
    output = a.output.rstrip("/")
    if not output.startswith(("file://", "hdfs://", "s3://", "s3a://")):
        output = "file://" + os.path.abspath(output)
    y, m, d = a.date.split("-")
    src = "%s/%s/year=%s/month=%s/day=%s/*/" % (landing, TOPIC, y, m, d)
    dst = "%s/daily_chunk_count/date=%s" % (output, a.date)

    spark = (
        SparkSession.builder.master(a.master)
        .appName("daily_chunk_count")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    jvm = SparkContext._gateway.proc  # the spark-submit JVM, our child
    t1 = time.monotonic()

    df = spark.read.json(src)
    (
        df.groupBy("company_id", "document_id")
        .count()
        .withColumnRenamed("count", "total_chunks")
        .write.mode("overwrite")
        .parquet(dst)
    )
    t2 = time.monotonic()
    version = spark.version
    spark.stop()
    # The gateway JVM exits when its stdin closes; wait for it so its CPU time and memory are
    # part of this process's measurement and its shutdown does not overlap the next run.
    jvm.stdin.close()
    jvm.wait(timeout=60)
    print("pyspark: wrote %s; start %.2f s, job %.2f s, stop %.2f s (spark %s, %s)"
          % (dst, t1 - t0, t2 - t1, time.monotonic() - t2, version, a.master))


if __name__ == "__main__":
    sys.exit(main())
