#!/usr/bin/env python3
"""Produce-to-queryable latency of a registering stream (bench/queryable.sh).

Usage: queryable.py BIN TOPIC LAKE DATABASE RATE SECONDS

Streams `kcat-lite -G -J --resume-from LAKE TOPIC | pq-write --envelope kcat
--exactly-once --roll-secs 10 --metastore --database DATABASE LAKE` while a paced
producer writes RATE events a second for SECONDS (each with its send time) and a poller
asks Trino (presto-q, $PRESTO_SERVER) every 0.5 s how many rows the table holds. The
topic has one partition, so files commit in offset order: `count(*) > seq` means event
`seq` is queryable. Prints `p50 p95 max events` of (first poll that saw it - sent),
taking each poll at its end, then `p50 p95` taking it at its start: the event became
queryable somewhere in between.
"""
import json
import os
import subprocess
import sys
import threading
import time


def main():
    bin_dir, topic, lake, db, rate, seconds = sys.argv[1:7]
    rate, seconds = int(rate), float(seconds)
    brokers, metastore = os.environ["KAFKA_BROKERS"], os.environ["HIVE_METASTORE"]
    table = topic.replace("-", "_").lower()
    stream = subprocess.Popen(
        f"{bin_dir}/kcat-lite -b {brokers} -G g-{topic} -J -q --resume-from {lake} {topic}"
        f" | {bin_dir}/pq-write --envelope kcat --exactly-once --roll-secs 10 -q"
        f" {lake} --metastore={metastore} --database {db} --table {table}",
        shell=True, start_new_session=True)
    time.sleep(5)  # the group join (group.initial.rebalance.delay.ms 3 s) is not latency
    producer = subprocess.Popen([f"{bin_dir}/kcat-lite", "-b", brokers, "-P", "-t", topic, "-q"],
                                stdin=subprocess.PIPE)
    sent = []

    def produce():
        start = time.time()
        n = int(rate * seconds)
        for i in range(n):
            wake = start + i / rate
            time.sleep(max(0.0, wake - time.time()))
            now = time.time()
            producer.stdin.write((json.dumps({"seq": i, "sent_ms": int(now * 1000)}) + "\n").encode())
            producer.stdin.flush()
            sent.append(now)
        producer.stdin.close()
        producer.wait()

    t = threading.Thread(target=produce)
    t.start()
    seen = []  # (poll start time, poll end time, rows queryable)
    deadline = time.time() + seconds + 90
    total = int(rate * seconds)
    while time.time() < deadline:
        began = time.time()
        r = subprocess.run([f"{bin_dir}/presto-q", "-q", "-o", "tsv",
                            f"SELECT count(*) FROM hive.{db}.{table}"],
                           capture_output=True, text=True)
        now = time.time()
        if r.returncode == 0 and r.stdout.strip():
            seen.append((began, now, int(r.stdout.strip())))
            if not t.is_alive() and seen[-1][2] >= total:
                break
        time.sleep(0.5)
    t.join()
    os.killpg(stream.pid, 15)
    stream.wait()
    at_end, at_start = [], []
    for seq, at in enumerate(sent):
        first = next(((b, e) for b, e, n in seen if n > seq), None)
        if first is None:
            sys.exit(f"queryable.py: event {seq} never became queryable in Trino")
        at_start.append(first[0] - at)
        at_end.append(first[1] - at)
    at_end.sort()
    at_start.sort()

    def pick(lat, q):
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    print(f"{pick(at_end, 0.5):.1f} {pick(at_end, 0.95):.1f} {at_end[-1]:.1f} {len(at_end)}"
          f" {pick(at_start, 0.5):.1f} {pick(at_start, 0.95):.1f}")


if __name__ == "__main__":
    main()
