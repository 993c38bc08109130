"""The client of `spark_sql.py --serve`: sends this call (arguments, stdin, folder) to the
server and prints its answer. Exit status 75 when there is no server or it cannot take the
call (a static --conf): bin/spark-sql then runs Spark itself.

Usage: spark_client.py SOCKET [spark-sql arguments]...
"""
import json
import os
import socket
import sys


def main():
    path, argv = sys.argv[1], sys.argv[2:]
    stdin = "" if ("-e" in argv or "-f" in argv) else sys.stdin.read()
    req = {"argv": argv, "stdin": stdin, "cwd": os.getcwd()}
    try:
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(path)
    except OSError:
        return 75
    with conn, conn.makefile("rwb") as f:
        f.write(json.dumps(req).encode() + b"\n")
        f.flush()
        line = f.readline()
    if not line:
        return 75  # the server died during the call
    reply = json.loads(line)
    if reply["rc"] is None:
        return 75  # what failed is said again by the Spark bin/spark-sql then runs
    sys.stdout.write(reply["stdout"])
    sys.stderr.write(reply["stderr"])
    return reply["rc"]


if __name__ == "__main__":
    sys.exit(main())
