"""A small spark-sql: runs SQL with Hive support against lakepipe's Hive metastore service.

Usage: spark_sql.py [--conf k=v]... [-e SQL | -f FILE]   (no -e/-f: SQL from stdin)
Statements are separated by ';'. Each statement's result rows are printed like spark-sql
does (tab-separated, NULL for nulls). On the first failing statement the error goes to
stderr and the exit status is 1.
"""
import argparse
import os
import sys


def split_statements(text):
    """Split on ';' outside quotes, backticks and comments."""
    out, cur, i, n = [], [], 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\" and quote != "`" and i + 1 < n:
                cur.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
            cur.append(c)
        elif c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        elif c == ";":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [s.strip() for s in out if s.strip()]


def main():
    ap = argparse.ArgumentParser(prog="spark-sql")
    ap.add_argument("-e", dest="sql")
    ap.add_argument("-f", dest="file")
    ap.add_argument("--conf", action="append", default=[], metavar="K=V")
    a = ap.parse_args()
    if a.sql is not None:
        text = a.sql
    elif a.file:
        with open(a.file, encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    statements = split_statements(text)
    if not statements:
        return 0

    state = os.environ["LAKEPIPE_SPARK_STATE"]
    import logging

    from pyspark.sql import SparkSession

    # pyspark 4 logs each failed query (JSON, with the Java stack) itself: we print the error
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL + 1)

    b = (
        SparkSession.builder.master("local[2]")
        .appName("lakepipe-spark-sql")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", "file:" + os.path.join(state, "warehouse"))
        .config("spark.hadoop.fs.defaultFS", os.environ["LAKEPIPE_SPARK_DEFAULTFS"])
        .config("spark.hadoop.dfs.replication", "1")
        # the shared Hive metastore (services/svc/metastore.sh), also Trino's
        .config("spark.hadoop.hive.metastore.uris", os.environ["LAKEPIPE_SPARK_METASTORE"])
        .enableHiveSupport()
    )
    for kv in a.conf:
        k, _, v = kv.partition("=")
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    jvm = spark._jvm
    hive_result = jvm.org.apache.spark.sql.execution.HiveResult
    try:
        for stmt in statements:
            jdf = spark._jsparkSession.sql(stmt)
            lines = hive_result.hiveResultString(jdf.queryExecution().executedPlan())
            it = lines.iterator()
            while it.hasNext():
                sys.stdout.write(it.next() + "\n")
            sys.stdout.flush()
    except Exception as e:  # py4j / pyspark errors
        msg = str(e)
        if hasattr(e, "java_exception"):
            msg = e.java_exception.toString()
        sys.stderr.write("Error in query: %s\n%s\n" % (stmt, msg.strip()))
        return 1
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
