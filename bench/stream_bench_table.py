#!/usr/bin/env python3
"""Tables (Markdown) from bench/stream_bench.py's output lines: stream_bench_table.py FILE"""
import json
import sys


def main():
    steps, summary = {}, {}
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 3:
            continue
        name, kind, data = parts
        if kind == "step":
            steps.setdefault(name, []).append(json.loads(data))
        elif kind == "summary":
            summary[name] = json.loads(data)
    print("\n| pipeline | highest steady rate | start-up (to the first file) | at the first rate: latency p50 / p95 | CPU s per 1M events (pipeline; broker + HDFS) | peak RSS, all its processes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, s in summary.items():
        first = steps[name][0]
        if not s["max_rate"]:
            top = "below %d/s" % first["rate"]
        else:
            top = "%d/s%s" % (s["max_rate"], " (all the producer sent)" if s.get("producer_limited") else "")
        print("| %s | %s | %.1f s | %.1f / %.1f s (%d/s) | %.1f; %.1f | %d MB (%s) |" % (
            name, top,
            s["startup_s"], first["p50"], first["p95"], first["rate"], first["cpu_s_per_M"],
            first["services_cpu_s_per_M"], s["peak_rss_mb"], s["processes"]))
    print("\nEvery step (the rate held for the step; kept up = every event visible by the end, the")
    print("median latency of the step's last third at most a few seconds above its middle third's,")
    print("and at most two rolls and 10 s of events not yet visible when the step ended):\n")
    print("| pipeline | rate asked | sent | kept up | latency p50 / p95 | growth | behind at the end | visible / sent | CPU s per 1M (pipeline; broker + HDFS) | cores busy: pipeline by process; broker + HDFS; producer + poller | peak RSS so far |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rows in steps.items():
        for r in rows:
            cores = ", ".join("%s %.2f" % (n, c) for n, c in sorted(r.get("cores", {}).items(), key=lambda x: -x[1]) if c >= 0.01)
            behind = r.get("behind_at_end")
            print("| %s | %d/s | %d/s | %s | %.1f / %.1f s | %+.1f s | %s | %d / %d | %.1f; %.1f | %s; %.2f; %.2f | %s |" % (
                name, r["rate"], r["achieved"], "yes" if r["kept_up"] else "**no**", r["p50"], r["p95"],
                r["growth_s"], "-" if behind is None else "%d (%.0f s)" % (behind, behind / max(r["achieved"], 1)),
                r["seen"], r["sent"], r["cpu_s_per_M"], r["services_cpu_s_per_M"],
                cores, r.get("services_cores", 0), r.get("generator_cores", 0),
                "%d MB" % r["peak_rss_mb_so_far"] if "peak_rss_mb_so_far" in r else "-"))


if __name__ == "__main__":
    main()
