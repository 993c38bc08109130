#!/usr/bin/env python3
"""Deterministic lab events (JSON lines) for the demo, tests and benchmarks.

Usage: gen_events.py N [SEED] > events.jsonl

Several event types with different fields, nested objects, lists and some nulls,
about 320 bytes a line, like the game events of the streaming lab.
"""
import json
import random
import sys

TYPES = ["purchase_sword", "purchase_knife", "join_guild", "enter_arena", "default"]
HOSTS = ["user1.comcast.com", "user2.att.com", "user3.verizon.net", "localhost:5000"]
AGENTS = ["curl/7.88.1", "ApacheBench/2.3", "Mozilla/5.0 (X11; Linux x86_64)", "python-requests/2.31"]
COUNTRIES = ["US", "DE", "FR", "BR", "IN", "JP", None]
SWORDS = ["longsword", "katana", "rapier", "claymore"]
GUILDS = ["red", "blue", "green"]


def event(i, rnd):
    t = TYPES[rnd.randrange(len(TYPES))]
    ts = 1700000000000 + i * 37
    e = {
        "event_type": t,
        "Host": HOSTS[rnd.randrange(len(HOSTS))],
        "Accept": "*/*",
        "User-Agent": AGENTS[rnd.randrange(len(AGENTS))],
        "timestamp": "2023-11-14T%02d:%02d:%02d.%03dZ" % ((ts // 3600000) % 24, (ts // 60000) % 60, (ts // 1000) % 60, ts % 1000),
        "seq": i,
        "user": {
            "id": rnd.randrange(1, 100000),
            "country": COUNTRIES[rnd.randrange(len(COUNTRIES))],
            "premium": rnd.random() < 0.2,
        },
    }
    if t == "purchase_sword":
        e["sword_type"] = SWORDS[rnd.randrange(len(SWORDS))]
        e["price"] = round(rnd.uniform(1, 500), 2)
        e["tags"] = [rnd.choice(["sale", "new", "rare", "epic"]) for _ in range(rnd.randrange(0, 3))]
    elif t == "purchase_knife":
        e["knife_type"] = rnd.choice(["dagger", "stiletto"])
        e["price"] = round(rnd.uniform(1, 90), 2)
        e["quantity"] = rnd.randrange(1, 5)
    elif t == "join_guild":
        e["guild"] = {"name": GUILDS[rnd.randrange(len(GUILDS))], "rank": rnd.randrange(1, 10), "motto": None if rnd.random() < 0.5 else "ever onward"}
    elif t == "enter_arena":
        e["arena_id"] = rnd.randrange(1, 20)
        e["opponents"] = [rnd.randrange(1, 100000) for _ in range(rnd.randrange(1, 4))]
        e["score"] = None if rnd.random() < 0.3 else rnd.randrange(0, 1000)
    e["metadata"] = {"session": "%016x" % rnd.getrandbits(64), "client": {"version": "1.%d.%d" % (rnd.randrange(10), rnd.randrange(10)), "os": rnd.choice(["linux", "mac", "win", None])}}
    return e


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    out = sys.stdout
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    buf = []
    for i in range(n):
        buf.append(dumps(event(i, rnd)))
        if len(buf) >= 10000:
            out.write("\n".join(buf) + "\n")
            buf = []
    if buf:
        out.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main()
