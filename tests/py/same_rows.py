#!/usr/bin/env python3
"""Compare two JSON-lines files as multisets of rows, across engines' conventions.

Usage: same_rows.py EXPECTED ACTUAL
Null fields are dropped (missing and null are the same), numbers and numeric strings
compare as decimals (engines print DECIMAL as numbers or strings), ISO-8601 timestamps
compare as instants (any precision and zone notation), maps/structs as objects.
Exit 0 when equal, else 1 with the first differences.
"""
import datetime
import decimal
import json
import re
import sys

decimal.getcontext().prec = 100
TS = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")
NUM = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def norm(v):
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float, decimal.Decimal)):
        return str(decimal.Decimal(str(v)).normalize())
    if isinstance(v, str):
        if NUM.match(v):
            return str(decimal.Decimal(v).normalize())
        if TS.match(v):
            s = v.replace(" ", "T").replace("Z", "+00:00")
            t = datetime.datetime.fromisoformat(s)
            if t.tzinfo is None:
                t = t.replace(tzinfo=datetime.timezone.utc)
            return "ts:" + t.isoformat()
    return v


def load(path):
    with open(path, encoding="utf-8") as f:
        return sorted(json.dumps(norm(json.loads(l, parse_float=decimal.Decimal)), sort_keys=True, ensure_ascii=False) for l in f if l.strip())


a, b = load(sys.argv[1]), load(sys.argv[2])
if a == b:
    sys.exit(0)
print(f"rows: expected {len(a)}, actual {len(b)}")
for x, y in zip(a, b):
    if x != y:
        print("expected:", x)
        print("actual:  ", y)
        break
sys.exit(1)
