#!/usr/bin/env python3
"""Write Parquet files covering the types hive-ddl maps, with pyarrow.

Usage: type_matrix.py OUT_DIR [spark|trino]
  spark: every type Spark's reader reads (ints signed and unsigned, decimals, dates,
         ms/us timestamps, strings, binary, floats, booleans, lists, maps, structs,
         nested to depth 3, nulls); trino: the same less unsigned ints.
"""
import datetime
import decimal
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out, target = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "spark")
utc = datetime.timezone.utc
ts = datetime.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc)
nested_t = pa.map_(pa.string(), pa.list_(pa.struct([("x", pa.int32()), ("tags", pa.list_(pa.string()))])))
cols = {
    "b": (pa.bool_(), [True, False, None]),
    "i8": (pa.int8(), [-128, 127, None]),
    "i16": (pa.int16(), [-32768, 32767, None]),
    "i32": (pa.int32(), [-2147483648, 2147483647, None]),
    "i64": (pa.int64(), [-(2**63), 2**63 - 1, None]),
    "u8": (pa.uint8(), [0, 255, None]),
    "u16": (pa.uint16(), [0, 65535, None]),
    "u32": (pa.uint32(), [0, 4294967295, None]),
    "f32": (pa.float32(), [1.5, -0.25, None]),
    "f64": (pa.float64(), [3.141592653589793, -1e300, None]),
    "d_small": (pa.decimal128(10, 2), [decimal.Decimal("12.30"), decimal.Decimal("-99999999.99"), None]),
    "d_big": (pa.decimal128(30, 5), [decimal.Decimal("1234567890123456789012345.12345"), decimal.Decimal("0.00001"), None]),
    "s": (pa.string(), ["ключ \"q\" 'x'", "", None]),
    "bin": (pa.binary(), [b"\x00\xff", b"", None]),
    "day": (pa.date32(), [datetime.date(2024, 2, 29), datetime.date(1970, 1, 1), None]),
    "ts_ms": (pa.timestamp("ms", tz="UTC"), [ts.replace(microsecond=123000), ts, None]),
    "ts_us": (pa.timestamp("us", tz="UTC"), [ts, ts.replace(microsecond=0), None]),
    "l": (pa.list_(pa.int64()), [[1, 2, None], [], None]),
    "m": (pa.map_(pa.string(), pa.int32()), [[("a", 1), ("b", None)], [], None]),
    "st": (pa.struct([("location", pa.string()), ("inner", pa.struct([("v", pa.float64())]))]), [{"location": "x", "inner": {"v": 1.0}}, {"location": None, "inner": None}, None]),
    "deep": (nested_t, [[("k", [{"x": 1, "tags": ["a", None]}, None])], [("e", [])], None]),
}
if target == "trino":
    for k in ["u8", "u16", "u32"]:
        del cols[k]
if target == "spark":
    pass
table = pa.table({k: pa.array(v, type=t) for k, (t, v) in cols.items()})
pq.write_table(table, f"{out}/matrix.parquet")
