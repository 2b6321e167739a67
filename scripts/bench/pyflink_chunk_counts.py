#!/usr/bin/env python3
"""Per-minute chunk counts per company over one landed day: the PyFlink job Lakeshore replaces.

    python scripts/bench/pyflink_chunk_counts.py --landing DIR --date 2026-11-21 \
        --output-file out.jsonl [--parallelism 2] [--mode batch|streaming|streaming-periodic]

A bounded run of the streaming job, on a local mini-cluster (the JVM started by PyFlink):
the Table API filesystem connector with the json format reads
DIR/embeddings.ready/year=YYYY/month=MM/day=DD/hour=*/*.json (only company_id and
kafka_timestamp declared), event time = kafka_timestamp (epoch ms) with a 5 s
bounded-out-of-orderness watermark, 1-minute tumbling event-time windows keyed by company_id,
COUNT(*). The rowtime must be a TIMESTAMP_LTZ (TO_TIMESTAMP_LTZ(kafka_timestamp, 3)); the
window bounds of an LTZ rowtime are TIMESTAMPs in the session time zone, so
'table.local-time-zone' = UTC makes them UTC, formatted without offset:

    {"window_start":"2026-11-21T10:05:00","window_end":"2026-11-21T10:06:00","company_id":"acme","chunk_count":42}

The filesystem sink writes part files into a staging directory; they are then concatenated
into --output-file (the part files' order is irrelevant: compare as a set).

Modes (--mode):
  batch (default)     Flink's BATCH runtime mode, the documented way to run a bounded job: the
                      input is sorted per key and windows fire once all input is read, so no
                      record can be late; results are exact (what DuckDB computes).
  streaming           STREAMING runtime mode (the streaming job's operators: window state per
                      key, fired by watermarks) with the same 5 s watermark declaration, but
                      every watermark held back until the final one at end of input, so results
                      are exact and all windows fire at the end. How: Flink SQL's
                      WatermarkAssigner emits when the watermark has advanced by more than
                      pipeline.auto-watermark-interval (its last-emitted watermark starts at 0,
                      not at Long.MIN) or on a processing-time timer of that period; an interval
                      of 100000 days (8.64e12 ms, above any epoch-ms timestamp) suppresses both.
  streaming-periodic  STREAMING with periodic watermarks (every 200 ms, Flink's default), as
                      the job runs on Kafka. On landed files this DROPS most records as late:
                      a file holds one Kafka partition's records of one hour (up to 1000),
                      each reader reads whole files one after another, and its watermark is the
                      max timestamp it has seen minus 5 s, so the next file of another
                      partition for the same hour is behind the watermark. Flink's file source
                      has no per-Kafka-partition watermarks, and the split order is the
                      directory listing's. (0.2 GB: 614-842 of 9568 records counted.) Printed
                      totals show the loss; not usable for the comparison.

All computation runs in the JVM (no Python UDFs); Python only builds the job, then stops and
reaps the JVM before exiting (so GNU time accounts for it). The JVM logs to $FLINK_LOG_DIR
(default: the log/ directory of the installed pyflink package).
"""

import argparse
import glob
import logging
import os
import shutil
import sys
import tempfile
import time

TOPIC = "embeddings.ready"


def child_pids():
    pids = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/children" % tid) as f:
                pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return pids


def stop_jvm(gateway):
    """Stop the gateway JVM (our child process) and reap it.

    PyFlink leaves the JVM running until its stdin closes when Python exits, and never waits
    for it: its CPU time and memory would then escape GNU time, and its shutdown would overlap
    whatever runs next. Exiting it here makes the measured process include it.
    """
    kids = child_pids()
    logging.disable(logging.CRITICAL)  # py4j logs the dropped connection as an error
    try:
        gateway.jvm.java.lang.System.exit(0)
    except Exception:  # the connection drops as the JVM exits
        pass
    for pid in kids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--landing", required=True, help="landing root (a path or file://path)")
    ap.add_argument("--date", default="2026-11-21")
    ap.add_argument("--output-file", required=True)
    ap.add_argument("--parallelism", type=int, default=2)
    ap.add_argument("--mode", choices=("batch", "streaming", "streaming-periodic"), default="batch")
    a = ap.parse_args()
    root = a.landing[len("file://"):] if a.landing.startswith("file://") else a.landing
    y, m, d = a.date.split("-")
    day_dir = os.path.abspath(os.path.join(root, TOPIC, "year=%s" % y, "month=%s" % m, "day=%s" % d))
    if not os.path.isdir(day_dir):
        sys.exit("pyflink: no landed data in %s" % day_dir)
    out = os.path.abspath(a.output_file)
    staging = tempfile.mkdtemp(prefix=".pyflink-", dir=os.path.dirname(out))

    t0 = time.monotonic()
    from pyflink.table import EnvironmentSettings, TableEnvironment
    from pyflink.version import __version__ as flink_version

    settings = EnvironmentSettings.in_batch_mode() if a.mode == "batch" else EnvironmentSettings.in_streaming_mode()
    t_env = TableEnvironment.create(settings)
    conf = t_env.get_config()
    conf.set("parallelism.default", str(a.parallelism))
    conf.set("table.local-time-zone", "UTC")
    conf.set("pipeline.name", "chunk-counts %s (%s)" % (a.date, a.mode))
    if a.mode != "batch":
        conf.set("pipeline.auto-watermark-interval", "100000 d" if a.mode == "streaming" else "200 ms")
        # The filesystem sink commits its files on checkpoints (and on the final one at end of
        # input); keep checkpoints rare so they cost nothing measurable.
        conf.set("execution.checkpointing.interval", "10 min")

    def lit(s):
        return "'" + s.replace("'", "''") + "'"

    t_env.execute_sql("""
        CREATE TEMPORARY TABLE landed (
          company_id STRING,
          kafka_timestamp BIGINT,
          ts AS TO_TIMESTAMP_LTZ(kafka_timestamp, 3),
          WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
        ) WITH (
          'connector' = 'filesystem',
          'path' = %s,
          'source.path.regex-pattern' = %s,
          'format' = 'json',
          'json.fail-on-missing-field' = 'true',
          'json.ignore-parse-errors' = 'false'
        )""" % (lit("file://" + day_dir),
                lit(".*/hour=[0-9]{2}/" + TOPIC.replace(".", "\\.") + "\\+[0-9]+\\+[0-9]{10}\\+[0-9]{10}\\.json")))
    t_env.execute_sql("""
        CREATE TEMPORARY TABLE chunk_counts (
          window_start STRING,
          window_end STRING,
          company_id STRING,
          chunk_count BIGINT
        ) WITH (
          'connector' = 'filesystem',
          'path' = %s,
          'format' = 'json'
        )""" % lit("file://" + staging))
    insert_sql = """
        INSERT INTO chunk_counts
        SELECT DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss'),
               DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss'),
               company_id,
               COUNT(*)
        FROM TABLE(TUMBLE(TABLE landed, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
        GROUP BY window_start, window_end, company_id"""
    try:
        t_env.execute_sql(insert_sql).wait()
        rows, total, nparts = collect(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print("pyflink: %d rows (%d chunks counted) from %d part files to %s in %.1f s "
          "(flink %s, %s mode, parallelism %d)"
          % (rows, total, nparts, out, time.monotonic() - t0, flink_version, a.mode, a.parallelism),
          file=sys.stderr)
    from pyflink.java_gateway import get_gateway
    stop_jvm(get_gateway())
    # Skip interpreter teardown: py4j's finalizers would try to reach the stopped JVM.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def collect(staging, out):
    """Concatenates the sink's part files into OUT; returns (rows, sum of counts, files)."""
    parts = sorted(p for p in glob.glob(os.path.join(staging, "**", "*"), recursive=True)
                   if os.path.isfile(p) and not os.path.basename(p).startswith((".", "_")))
    rows = total = 0
    tmp_out = out + ".tmp"
    with open(tmp_out, "wb") as w:
        for p in parts:
            with open(p, "rb") as f:
                data = f.read()
            if data and not data.endswith(b"\n"):
                data += b"\n"
            w.write(data)
            rows += data.count(b"\n")
            total += sum(int(line.rsplit(b":", 1)[1].rstrip(b"}")) for line in data.splitlines() if line)
    os.replace(tmp_out, out)
    return rows, total, len(parts)


if __name__ == "__main__":
    main()
