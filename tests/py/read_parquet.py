#!/usr/bin/env python3
"""Print a Parquet file's rows as JSON lines, read by an independent engine.

Usage: read_parquet.py pyarrow|duckdb FILE_OR_FOLDER
Values follow pq-cat's conventions: ISO-8601 timestamps, exact decimal strings,
base64 binary, maps as objects.
"""
import base64
import datetime
import decimal
import json
import sys


def conv(v):
    if isinstance(v, dict):
        return {k: conv(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        # pyarrow gives maps as lists of (key, value) tuples
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            return {str(k): conv(x) for k, x in v}
        return [conv(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        s = v.replace(tzinfo=None).isoformat()
        return s + ("Z" if v.tzinfo is not None else "")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    return v


def main():
    engine, path = sys.argv[1], sys.argv[2]
    if engine == "pyarrow":
        import pyarrow.parquet as pq
        rows = pq.read_table(path).to_pylist()
    elif engine == "duckdb":
        import duckdb
        rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
        cols = rel.columns
        rows = [dict(zip(cols, r)) for r in rel.fetchall()]
    else:
        sys.exit(f"unknown engine {engine}")
    out = sys.stdout
    for r in rows:
        out.write(json.dumps(conv(r), ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
