#!/usr/bin/env python3
"""Checks that daily chunk reports written by different engines hold the same rows.

    python scripts/bench/report_compare.py --records N [--sorted CASE,...] NAME=DIR ...

Each DIR is a report directory (.../daily_chunk_count/date=YYYY-MM-DD/): its Parquet files
(every *.parquet not starting with _ or .) are read with pyarrow. Checked for each:

- a _SUCCESS marker and at least one Parquet file;
- the columns are exactly company_id, document_id, total_chunks, stored as Parquet
  BYTE_ARRAY/String, BYTE_ARRAY/String and INT64;
- no nulls, total_chunks > 0, no (company_id, document_id) twice;
- total_chunks adds up to N (the data set's record count);
- the same multiset of (company_id, document_id, total_chunks) rows as the first DIR;
- for names listed in --sorted (by case, the part before the first "-" after "rN-", or the
  whole name): rows in (company_id, document_id) order.

Prints one line per report; exits 1 on any problem.
"""

import argparse
import collections
import os
import sys

import pyarrow.parquet as pq

# (name, physical type, accepted logical types); writers differ on marking INT64 as Int(64).
COLUMNS = [("company_id", "BYTE_ARRAY", {"String"}), ("document_id", "BYTE_ARRAY", {"String"}),
           ("total_chunks", "INT64", {"None", "Int(bitWidth=64, isSigned=true)"})]


def case_of(name):
    # r1-lakeshore -> lakeshore
    head, _, rest = name.partition("-")
    return rest if head[:1] == "r" and head[1:].isdigit() and rest else name


def load(path):
    problems = []
    if not os.path.isdir(path):
        return None, ["no report directory %s" % path], False
    names = sorted(os.listdir(path))
    if "_SUCCESS" not in names:
        problems.append("no _SUCCESS marker")
    parts = [n for n in names if n.endswith(".parquet") and not n.startswith(("_", "."))]
    if not parts:
        return None, problems + ["no Parquet files in %s" % path], False
    rows = []
    for part in parts:
        f = pq.ParquetFile(os.path.join(path, part))
        schema = f.schema  # the Parquet schema, not the Arrow one
        got = [(schema.column(i).name, schema.column(i).physical_type, str(schema.column(i).logical_type))
               for i in range(len(schema))]
        ok = len(got) == len(COLUMNS) and all(
            g[0] == w[0] and g[1] == w[1] and g[2] in w[2] for g, w in zip(got, COLUMNS))
        if not ok:
            problems.append("%s: columns %s, expected %s" % (part, got, COLUMNS))
            continue
        t = f.read()
        for col in ("company_id", "document_id", "total_chunks"):
            if t.column(col).null_count:
                problems.append("%s: %d nulls in %s" % (part, t.column(col).null_count, col))
        rows += zip(t.column("company_id").to_pylist(), t.column("document_id").to_pylist(),
                    t.column("total_chunks").to_pylist())
    keys = [r[:2] for r in rows if r[0] is not None and r[1] is not None]
    is_sorted = len(parts) == 1 and all(a <= b for a, b in zip(keys, keys[1:]))
    dups = len(keys) - len(set(keys))
    if dups:
        problems.append("%d duplicate (company_id, document_id) rows" % dups)
    nonpos = sum(1 for r in rows if r[2] is None or r[2] <= 0)
    if nonpos:
        problems.append("%d rows with total_chunks <= 0" % nonpos)
    return collections.Counter(rows), problems, is_sorted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--sorted", default="", help="comma-separated cases whose rows must be sorted")
    ap.add_argument("reports", nargs="+", metavar="NAME=DIR")
    a = ap.parse_args()
    must_sort = set(filter(None, a.sorted.split(",")))
    failed = False
    ref_name = ref = None
    for arg in a.reports:
        name, _, path = arg.partition("=")
        rows, problems, is_sorted = load(path)
        total = sum(r[2] * k for r, k in rows.items() if r[2] is not None) if rows is not None else 0
        if rows is not None:
            if total != a.records:
                problems.append("total_chunks adds up to %d, the data set has %d records (%+d)"
                                % (total, a.records, total - a.records))
            if case_of(name) in must_sort and not is_sorted:
                problems.append("rows not in (company_id, document_id) order (or more than one file)")
            if ref is None:
                ref_name, ref = name, rows
            elif rows != ref:
                only_ref, only_this = ref - rows, rows - ref
                problems.append("differs from %s: %d rows only there, %d rows only here"
                                % (ref_name, sum(only_ref.values()), sum(only_this.values())))
                for r in sorted(only_ref)[:3]:
                    problems.append("  only in %s: %s" % (ref_name, r))
                for r in sorted(only_this)[:3]:
                    problems.append("  only here: %s" % (r,))
        print("  %-18s %s: %d rows, %d chunks%s" % (
            name, "FAIL" if problems else "ok", sum(rows.values()) if rows else 0, total,
            ", sorted" if is_sorted else ", not sorted"))
        for p in problems:
            print("      " + p)
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
