"""A small spark-sql: runs SQL with Hive support against lakepipe's Hive metastore service.

Usage: spark_sql.py [--conf k=v]... [-e SQL | -f FILE]   (no -e/-f: SQL from stdin)
       spark_sql.py --serve SOCKET    (one Spark session kept for every later call)
Statements are separated by ';'. Each statement's result rows are printed like spark-sql
does (tab-separated, NULL for nulls). On the first failing statement the error goes to
stderr and the exit status is 1.

A Spark start is 10-20 s of JVM and Hive client set-up, most of a test's query. With a
server (`services/up.sh spark` starts one), each call runs in a new session of the
server's SparkSession (its own SQL settings and table cache, so no stale listings), and
the client (bin/spark-sql, spark_client.py) takes milliseconds to start.
"""
import argparse
import io
import json
import os
import socket
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


def parse(argv):
    ap = argparse.ArgumentParser(prog="spark-sql")
    ap.add_argument("-e", dest="sql")
    ap.add_argument("-f", dest="file")
    ap.add_argument("--conf", action="append", default=[], metavar="K=V")
    ap.add_argument("--serve", metavar="SOCKET")
    return ap.parse_args(argv)


def statements_of(a, stdin):
    if a.sql is not None:
        return split_statements(a.sql)
    if a.file:
        with open(a.file, encoding="utf-8") as f:
            return split_statements(f.read())
    return split_statements(stdin.read())


def local_builder(app):
    """A SparkSession builder for these services: local[2] on loopback, no UI, the HDFS of
    $LAKEPIPE_SPARK_DEFAULTFS with one replica (also bench/spark_stream.py's)."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.hadoop.fs.defaultFS", os.environ["LAKEPIPE_SPARK_DEFAULTFS"])
        .config("spark.hadoop.dfs.replication", "1")
    )


def session(confs):
    state = os.environ["LAKEPIPE_SPARK_STATE"]
    import logging

    # pyspark 4 logs each failed query (JSON, with the Java stack) itself: we print the error
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL + 1)

    b = (
        local_builder("lakepipe-spark-sql")
        .config("spark.sql.warehouse.dir", "file:" + os.path.join(state, "warehouse"))
        # the shared Hive metastore (services/svc/metastore.sh), also Trino's
        .config("spark.hadoop.hive.metastore.uris", os.environ["LAKEPIPE_SPARK_METASTORE"])
        .enableHiveSupport()
    )
    for kv in confs:
        k, _, v = kv.partition("=")
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run(spark, statements, out, err):
    """Runs the statements, printing rows to out; the exit status."""
    hive_result = spark._jvm.org.apache.spark.sql.execution.HiveResult
    for stmt in statements:
        try:
            jdf = spark._jsparkSession.sql(stmt)
            lines = hive_result.hiveResultString(jdf.queryExecution().executedPlan())
        except Exception as e:  # py4j / pyspark errors
            msg = str(e)
            if hasattr(e, "java_exception"):
                msg = e.java_exception.toString()
            err.write("Error in query: %s\n%s\n" % (stmt, msg.strip()))
            return 1
        it = lines.iterator()
        while it.hasNext():
            out.write(it.next() + "\n")
        out.flush()
    return 0


def serve(path):
    """Answers calls on a Unix socket, one at a time: a JSON request line
    {"argv", "stdin", "cwd"}, then a JSON reply {"rc", "stdout", "stderr"}."""
    spark = session([])
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(4)
    print("spark-sql server READY", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rwb") as f:
            try:
                req = json.loads(f.readline())
                reply = answer(spark, req)
            except Exception as e:  # a broken request: the client runs Spark itself
                reply = {"rc": None, "stdout": "", "stderr": "server: %s\n" % e}
            f.write(json.dumps(reply).encode() + b"\n")


def answer(spark, req):
    os.chdir(req["cwd"])
    a = parse(req["argv"])
    statements = statements_of(a, io.StringIO(req["stdin"]))
    s = spark.newSession()
    for kv in a.conf:
        k, _, v = kv.partition("=")
        s.conf.set(k, v)  # a static setting raises: the client then runs Spark itself
    out, err = io.StringIO(), io.StringIO()
    rc = run(s, statements, out, err)
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main():
    a = parse(sys.argv[1:])
    if a.serve:
        serve(a.serve)
        return 0
    statements = statements_of(a, sys.stdin)
    if not statements:
        return 0
    spark = session(a.conf)
    try:
        return run(spark, statements, sys.stdout, sys.stderr)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
