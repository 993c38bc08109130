"""Interop fixtures and checks for pq-cat's live tests (pyarrow and DuckDB).

    interop.py gen KIND OUT.parquet     write a file (KIND: every_type, int96, legacy_list,
                                        no_arrow_schema, codecs, duckdb)
    interop.py check FILE OUT.jsonl     compare pq-cat's JSON lines with what pyarrow
                                        reads from FILE; print the differences, exit 1

pyarrow's values are converted to pq-cat's JSON conventions (ISO-8601 timestamps with
Z/+hh:mm/no suffix, exact decimal strings, base64 binary, maps as objects, "NaN").
"""
import base64
import datetime as dt
import decimal
import json
import struct
import sys
import uuid
import zoneinfo

import pyarrow as pa
import pyarrow.parquet as pq


def every_type_table():
    n = 4  # row 3 is null in every column
    def col(values, typ):
        return pa.array(values + [None] * (n - len(values)), typ)

    point = pa.struct([("x", pa.float64()), ("label", pa.string())])
    cols = {
        "i8": col([-128, 0, 127], pa.int8()),
        "i16": col([-32768, 1, 32767], pa.int16()),
        "i32": col([-(2**31), 2, 2**31 - 1], pa.int32()),
        "i64": col([-(2**63), 3, 2**63 - 1], pa.int64()),
        "u8": col([0, 1, 255], pa.uint8()),
        "u16": col([0, 1, 65535], pa.uint16()),
        "u32": col([0, 1, 2**32 - 1], pa.uint32()),
        "u64": col([0, 1, 2**64 - 1], pa.uint64()),
        "f16": pa.array([1.5, -0.25, 65504.0, None], pa.float32()).cast(pa.float16()),
        "f32": col([0.1, float("nan"), float("-inf")], pa.float32()),
        "f64": col([52.0, 338.67, float("inf")], pa.float64()),
        "f64_small": col([1e-300, -0.0, 1e21], pa.float64()),
        "dec_small": col([decimal.Decimal("12.34"), decimal.Decimal("-0.05"), decimal.Decimal("0.00")], pa.decimal128(5, 2)),
        "dec_large": col([decimal.Decimal("1234567890123456789012345678.0123456789"), decimal.Decimal("-1E-10"), decimal.Decimal("0")], pa.decimal128(38, 10)),
        "dec_256": col([decimal.Decimal("123456789012345678901234567890123456789012345.12345")], pa.decimal256(50, 5)),
        "s": col(["plain", 'quote " backslash \\ newline \n tab \t ctrl \x01', "unicode é € 😀"], pa.string()),
        "ls": col(["large", ""], pa.large_string()),
        "bin": col([b"\x00\xff\x10", b""], pa.binary()),
        "lbin": col([b"large binary"], pa.large_binary()),
        "fsb": col([b"abcd", b"\x00\x00\x00\x01"], pa.binary(4)),
        "d32": col([dt.date(2024, 1, 31), dt.date(1969, 12, 31), dt.date(1, 1, 1)], pa.date32()),
        "d64": col([dt.date(2024, 2, 29)], pa.date64()),
        "ts_s": col([1_700_000_000, -1], pa.timestamp("s")),
        "ts_ms": col([1_700_000_000_037, 1_700_000_000_000], pa.timestamp("ms")),
        "ts_us": col([1_700_000_000_000_001, -1], pa.timestamp("us")),
        "ts_ns": col([1_700_000_000_000_000_001, 123], pa.timestamp("ns")),
        "ts_s_utc": col([1_700_000_000], pa.timestamp("s", tz="UTC")),
        "ts_ms_utc": col([1_700_000_000_037, 0], pa.timestamp("ms", tz="UTC")),
        "ts_us_paris": col([1_700_000_000_000_001, 1_690_000_000_000_000], pa.timestamp("us", tz="Europe/Paris")),
        "ts_ns_fixed": col([1_700_000_000_000_000_001], pa.timestamp("ns", tz="+05:30")),
        "t32_s": col([0, 86399], pa.time32("s")),
        "t32_ms": col([3_723_004, 1000], pa.time32("ms")),
        "t64_us": col([3_723_000_005, 0], pa.time64("us")),
        "t64_ns": col([3_723_000_000_007], pa.time64("ns")),
        "l_i32": col([[1, None, 3], []], pa.list_(pa.int32())),
        "ll_s": col([["a", None], ["b"]], pa.large_list(pa.string())),
        "l_l": col([[[1, 2], None, []]], pa.list_(pa.list_(pa.int64()))),
        "l_struct": col([[{"x": 1.5, "label": "p"}, None, {"x": None, "label": "q"}]], pa.list_(point)),
        "st": col([{"a": 1, "inner": {"c": "deep"}}, {"a": None, "inner": None}], pa.struct([("a", pa.int32()), ("inner", pa.struct([("c", pa.string())]))])),
        "m": col([[("k1", 1), ("k2", None)], []], pa.map_(pa.string(), pa.int32())),
        "m_int": col([[(7, "seven"), (-1, "minus one")]], pa.map_(pa.int64(), pa.string())),
        "m_l_st": col([[("a", [{"x": 2.0, "label": "in list in map"}, None])]], pa.map_(pa.string(), pa.list_(point))),
        "dict": pa.array(["red", "blue", "red", None]).dictionary_encode(),
    }
    return pa.table(cols)


def duckdb_file(path):
    import duckdb

    con = duckdb.connect()
    con.sql(
        f"""COPY (
        SELECT * FROM (VALUES
          (1::TINYINT, 2::SMALLINT, 3::INTEGER, 4::BIGINT, 5::UTINYINT, 6::USMALLINT, 7::UINTEGER,
           18446744073709551615::UBIGINT, 1.5::FLOAT, 2.25::DOUBLE, 12.34::DECIMAL(4,2),
           123456789012345678.123::DECIMAL(38,3), 'text é'::VARCHAR, '\\xAA\\xBB'::BLOB, true,
           DATE '2024-01-31', TIMESTAMP '2024-01-31 12:34:56.789', TIMESTAMP_NS '2024-01-31 12:34:56.123456789',
           TIMESTAMPTZ '2024-01-31 12:34:56.5+00', TIME '12:34:56.25',
           [1, 2, NULL]::INTEGER[], {{'a': 1, 'b': 'x'}}, MAP {{'k': [{{'z': 1}}]}},
           [{{'p': [1.5]}}]),
          (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, [], NULL, MAP {{}}, [])
        ) AS t(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, dec, dec_large, s, b, bool,
               d, ts, ts_ns, tstz, t, l, st, m, l_st_l)
    ) TO '{path}' (FORMAT parquet)"""
    )


def gen(kind, path):
    if kind == "duckdb":
        return duckdb_file(path)
    table = every_type_table()
    if kind == "every_type":
        pq.write_table(table, path)
    elif kind == "int96":
        ts = table.select(["ts_ms", "ts_us", "ts_ns", "ts_ms_utc", "ts_us_paris"])
        # As Spark writes them: INT96 and no Arrow schema to restore the original unit/zone
        # (with one, both readers follow it), so both read naive nanoseconds.
        pq.write_table(ts, path, use_deprecated_int96_timestamps=True, store_schema=False)
    elif kind == "legacy_list":
        pq.write_table(table, path, use_compliant_nested_type=False)
    elif kind == "no_arrow_schema":
        pq.write_table(table, path, store_schema=False)
    elif kind == "codecs":
        # zstd, v2 data pages, tiny row groups and pages, no dictionary
        big = pa.concat_tables([table] * 50)
        pq.write_table(big, path, compression="zstd", data_page_version="2.0", row_group_size=7,
                       data_page_size=64, use_dictionary=False)
    elif kind == "gzip_v1":
        # Format 1.0 has no nanoseconds; the zone of a column whose unit changed is not
        # restored by arrow-rs (it prints in UTC), so those columns are left out here.
        table = table.drop_columns(["ts_ns", "ts_ns_fixed"])
        pq.write_table(table, path, compression="gzip", data_page_version="1.0", version="1.0",
                       coerce_timestamps="us")
    else:
        sys.exit(f"unknown kind {kind}")


# --- pyarrow values -> pq-cat's JSON conventions -------------------------------------

def raw_type(t):
    """Timestamps and times as their integers (to_pylist would lose nanoseconds)."""
    if pa.types.is_timestamp(t) or pa.types.is_time64(t):
        return pa.int64()
    if pa.types.is_time32(t):
        return pa.int32()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        f = t.value_field
        field = pa.field(f.name, raw_type(f.type), f.nullable)
        return pa.list_(field) if pa.types.is_list(t) else pa.large_list(field)
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, raw_type(f.type), f.nullable) for f in t])
    if pa.types.is_map(t):
        return pa.map_(raw_type(t.key_type), pa.field(t.item_field.name, raw_type(t.item_type), t.item_field.nullable))
    return t


def fround(v, t):
    if pa.types.is_float32(t):
        return struct.unpack("f", struct.pack("f", v))[0]
    if pa.types.is_float16(t):
        return struct.unpack("e", struct.pack("e", v))[0]
    return v


def offset_secs(tz, secs):
    if tz[0] in "+-":
        h, m = tz[1:].split(":")
        return (1 if tz[0] == "+" else -1) * (int(h) * 3600 + int(m) * 60)
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=secs)
    return int(utc.astimezone(zoneinfo.ZoneInfo(tz)).utcoffset().total_seconds())


UNITS = {"s": (1, 0), "ms": (1000, 3), "us": (10**6, 6), "ns": (10**9, 9)}


def clock(secs_of_day, frac, digits):
    s = "%02d:%02d:%02d" % (secs_of_day // 3600, secs_of_day // 60 % 60, secs_of_day % 60)
    return s + ("." + str(frac).zfill(digits) if frac else "")


def iso_timestamp(v, unit, tz):
    per, digits = UNITS[unit]
    secs, frac = divmod(v, per)
    suffix = ""
    if tz is not None:
        if tz in ("UTC", "Etc/UTC", "+00:00", "Z"):
            suffix = "Z"
        else:
            off = offset_secs(tz, secs)
            secs += off
            sign = "-" if off < 0 else "+"
            suffix = "%s%02d:%02d" % (sign, abs(off) // 3600, abs(off) // 60 % 60)
    days, sod = divmod(secs, 86400)
    d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
    return "%04d-%02d-%02dT%s%s" % (d.year, d.month, d.day, clock(sod, frac, digits), suffix)


def expected(v, t):
    if v is None:
        return None
    if pa.types.is_dictionary(t):
        return expected(v, t.value_type)
    if pa.types.is_floating(t):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
        return fround(v, t)
    if pa.types.is_decimal(t):
        return format(v, "f")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return base64.b64encode(v).decode()
    if isinstance(v, uuid.UUID):
        return base64.b64encode(v.bytes).decode()
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_timestamp(t):
        return iso_timestamp(v, t.unit, t.tz)
    if pa.types.is_time(t):
        per, digits = UNITS[t.unit]
        return clock(v // per, v % per, digits)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [expected(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {f.name: expected(v[f.name], f.type) for f in t}
    if pa.types.is_map(t):
        out = {}
        for k, x in v:
            k = expected(k, t.key_type)
            out[k if isinstance(k, str) else json.dumps(k)] = expected(x, t.item_type)
        return out
    return v


def actual(v, t):
    """pq-cat's parsed value, with floats rounded to the column's precision."""
    if v is None:
        return None
    if pa.types.is_dictionary(t):
        return actual(v, t.value_type)
    if pa.types.is_floating(t):
        return v if isinstance(v, str) else fround(float(v), t)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return [actual(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {k: actual(x, t.field(k).type) if t.get_field_index(k) >= 0 else x for k, x in v.items()}
    if pa.types.is_map(t):
        return {k: actual(x, t.item_type) for k, x in v.items()}
    return v


def check(path, jsonl):
    table = pq.read_table(path)
    rows = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    problems = []
    if len(rows) != table.num_rows:
        problems.append(f"pq-cat printed {len(rows)} rows, pyarrow reads {table.num_rows}")
    names = table.schema.names
    for i, row in enumerate(rows[: table.num_rows]):
        if list(row) != names:
            problems.append(f"row {i}: keys {list(row)} != columns {names}")
            break
    for name in names:
        column = table.column(name)
        t = column.type
        want = [expected(v, t) for v in column.cast(raw_type(t)).to_pylist()]
        got = [actual(r.get(name), t) for r in rows]
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                problems.append(f"{name} ({t}) row {i}: pq-cat {g!r} != pyarrow {w!r}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"{path}: {table.num_rows} rows x {len(names)} columns identical")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], sys.argv[3])
