#!/usr/bin/env python3
"""One streaming pipeline under a paced load, for bench/stream-spark.sh.

Usage: stream_bench.py NAME PIPELINE_CMD LAKE TOPIC EVENTS_FILE RESULTS_TSV

Starts PIPELINE_CMD (a shell string, its own session), produces EVENTS_FILE's lines to
TOPIC through `kcat-lite -P` at a steady rate, each stamped with its send time
(`"sent_ms":...` first), and raises the rate step by step (STREAM_RATES, events/s, each
held STREAM_STEP_SECS). Meanwhile it lists LAKE every STREAM_POLL_SECS with hdfs-ls and
notes when each Parquet file first shows up complete (its footer readable: pq-cat --meta),
and samples /proc for the CPU time and peak RSS of the pipeline's process tree (Spark's
JVM included) and of the broker and HDFS. The ladder stops at the first rate the pipeline
clearly falls behind at; then the producer stops, the pipeline drains and is stopped.

Afterwards it reads each file's send stamps and reports per step: the achieved rate, the
produce-to-visible latency p50/p95, whether it kept up (every event visible by the end,
the median latency of the step's last third no more than STREAM_GROW_SECS above its
middle third's, and at the step's end at most two rolls and 10 s of events not yet visible), CPU seconds per million events; plus start-up (launch to the first file)
and peak RSS. Lines go to stdout and RESULTS_TSV.
Env: KAFKA_BROKERS, BIN (kcat-lite, pq-cat, hdfs-ls), STREAM_SERVICE_PIDS (broker, HDFS).
"""
import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time

ENV = os.environ
RATES = [int(r) for r in ENV.get("STREAM_RATES", "5000 20000 60000").split()]
STEP = float(ENV.get("STREAM_STEP_SECS", "60"))
WARM_RATE = int(ENV.get("STREAM_WARM_RATE", "1000"))
WARM = float(ENV.get("STREAM_WARM_SECS", "15"))
POLL = float(ENV.get("STREAM_POLL_SECS", "0.5"))
ROLL = float(ENV.get("STREAM_ROLL_SECS", "10"))
GROW = float(ENV.get("STREAM_GROW_SECS", "4"))
DRAIN = float(ENV.get("STREAM_DRAIN_SECS", "60"))
START_TIMEOUT = float(ENV.get("STREAM_START_TIMEOUT", "240"))
BIN = ENV["BIN"]
TICK = os.sysconf("SC_CLK_TCK")


def now_ms():
    return int(time.time() * 1000)


def log(msg):
    print("  [%s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class Producer(threading.Thread):
    """Writes stamped lines into kcat-lite -P at self.rate events/s, in 10 ms slices."""

    def __init__(self, brokers, topic, events_file):
        super().__init__(daemon=True)
        with open(events_file, "rb") as f:
            self.lines = [line[1:] for line in f if line.startswith(b"{")]
        self.proc = subprocess.Popen(
            [BIN + "/kcat-lite", "-b", brokers, "-t", topic, "-P", "-q"], stdin=subprocess.PIPE
        )
        self.rate = 0
        self.sent = 0
        self.stop = False

    def run(self):
        i, n = 0, len(self.lines)
        due, last = 0.0, time.monotonic()
        out = self.proc.stdin
        while not self.stop:
            t = time.monotonic()
            due += self.rate * (t - last)
            last = t
            # at most 20 ms of lines a write: a write that blocks (a full pipe) delays the
            # next stamp, not the meaning of this one
            k = min(int(due), max(1, self.rate // 50))
            if k > 0:
                due = min(due - k, self.rate * 0.1)
                pre = b'{"sent_ms":%d,' % now_ms()
                chunk = []
                for _ in range(k):
                    chunk.append(pre + self.lines[i])
                    i = i + 1 if i + 1 < n else 0
                out.write(b"".join(chunk))
                out.flush()
                self.sent += k
            time.sleep(max(0.0, 0.01 - (time.monotonic() - t)))
        out.close()
        self.proc.wait()


def hidden(path, lake):
    rel = path[len(lake):].lstrip("/")
    return any(p.startswith(("_", ".")) for p in rel.split("/"))


class Watcher(threading.Thread):
    """Lists the lake; notes each complete Parquet file's first-seen time and rows."""

    def __init__(self, lake):
        super().__init__(daemon=True)
        self.lake = lake.rstrip("/")
        self.files = {}  # path -> (seen_ms, rows)
        self.rows = 0
        self.stop = False

    def meta(self, paths):
        r = subprocess.run([BIN + "/pq-cat", "--meta", "-q"] + paths, capture_output=True)
        if r.returncode != 0:
            return None
        return {m["path"]: m["num_rows"] for m in map(json.loads, r.stdout.splitlines())}

    def poll(self):
        r = subprocess.run([BIN + "/hdfs-ls", "-R", "-C", self.lake], capture_output=True, text=True)
        seen = now_ms()
        if r.returncode != 0:
            return
        new = [p for p in r.stdout.split() if p.endswith(".parquet") and p not in self.files
               and not hidden(p, self.lake)]
        if not new:
            return
        got = self.meta(new)
        if got is None:  # one is still being written (Spark writes in place): one by one
            got = {}
            for p in new:
                got.update(self.meta([p]) or {})
        for p, rows in got.items():
            self.files[p] = (seen, rows)
            self.rows += rows

    def run(self):
        while not self.stop:
            t = time.monotonic()
            self.poll()
            time.sleep(max(0.0, POLL - (time.monotonic() - t)))


def proc_stat(pid):
    """(ppid, cpu seconds, peak RSS kB) of a live process, else None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        hwm = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        return int(fields[1]), cpu, hwm
    except (OSError, ValueError, IndexError):
        return None


def tree(root):
    """root and its descendants: {pid: (name, cpu, hwm)}"""
    procs, kids = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                procs[int(d)] = st
                kids.setdefault(st[0], []).append(int(d))
    out, todo = {}, [root]
    while todo:
        p = todo.pop()
        if p in procs:
            out[p] = (comm(p), procs[p][1], procs[p][2])
            todo.extend(kids.get(p, []))
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


class Sampler(threading.Thread):
    """Every second: CPU seconds of the pipeline's tree and of the services; peak RSS."""

    def __init__(self, root, services, generator):
        super().__init__(daemon=True)
        self.root, self.services, self.generator = root, services, generator
        self.cpu = {}  # pid -> (name, last cpu seconds): a process that ended keeps its last
        self.svc_cpu = {}
        self.gen_cpu = {}
        self.hwm = {}  # pid -> (name, peak kB)
        self.stop = False
        self.lock = threading.Lock()

    def sample(self):
        t = tree(self.root)
        svc = {}
        for p in self.services:
            svc.update(tree(p))
        gen = {p: st for p, st in ((p, proc_stat(p)) for p in self.generator) if st}
        with self.lock:
            for p, st in gen.items():
                self.gen_cpu[p] = st[1]
            for p, (name, cpu, hwm) in t.items():
                self.cpu[p] = (name, cpu)
                if hwm > self.hwm.get(p, ("", 0))[1]:
                    self.hwm[p] = (name, hwm)
            for p, (_, cpu, _) in svc.items():
                self.svc_cpu[p] = cpu

    def totals(self):
        """CPU seconds so far: the pipeline's by process name, the services', the generator's"""
        self.sample()
        with self.lock:
            by_name = {}
            for name, cpu in self.cpu.values():
                by_name[name] = by_name.get(name, 0) + cpu
            return by_name, sum(self.svc_cpu.values()), sum(self.gen_cpu.values())

    def run(self):
        while not self.stop:
            self.sample()
            time.sleep(1)


def pct(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def stamps(paths):
    """sent_ms of every row of these files"""
    r = subprocess.run([BIN + "/pq-cat", "-q", "--columns", "sent_ms", "--format", "tsv"] + paths,
                       capture_output=True, text=True, check=True)
    return [int(x) for x in r.stdout.split()]


def main():
    name, cmd, lake, topic, events_file, results = sys.argv[1:7]
    services = [int(p) for p in ENV.get("STREAM_SERVICE_PIDS", "").split()]
    producer = Producer(ENV["KAFKA_BROKERS"], topic, events_file)
    t_launch = now_ms()
    pipe = subprocess.Popen(["bash", "-c", cmd], start_new_session=True)

    def end_pipeline(*_):
        # the pipeline never outlives this run (Spark's JVM is 1 GB)
        if pipe.poll() is None:
            os.killpg(pipe.pid, signal.SIGKILL)

    atexit.register(end_pipeline)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # the load generator and poller: kcat-lite -P and this process (pacing, polling)
    sampler = Sampler(pipe.pid, services, [producer.proc.pid, os.getpid()])
    watcher = Watcher(lake)
    sampler.start()
    watcher.start()
    producer.rate = WARM_RATE
    producer.start()
    log("%s: started (pid %d); producing %d events/s until the first file shows" % (name, pipe.pid, WARM_RATE))
    while not watcher.files:
        if pipe.poll() is not None or now_ms() - t_launch > START_TIMEOUT * 1000:
            log("%s: no file after %.0f s (exit %s)" % (name, (now_ms() - t_launch) / 1000, pipe.poll()))
            producer.stop = True
            os.killpg(pipe.pid, signal.SIGKILL)
            print("%s\tFAILED: no file within %.0f s" % (name, START_TIMEOUT))
            return 1
        time.sleep(0.2)
    startup = (min(s for s, _ in watcher.files.values()) - t_launch) / 1000
    log("%s: first file after %.1f s; warming up until caught up (at least %.0f s)" % (name, startup, WARM))
    # a slow start leaves a backlog: the steps begin once at most two rolls' worth is pending
    t_warm = time.monotonic()
    time.sleep(WARM)
    while producer.sent - watcher.rows > WARM_RATE * (2 * ROLL + 5) and time.monotonic() - t_warm < 180:
        time.sleep(0.5)
    steps = []  # (rate, t0_ms, t1_ms, sent0, sent1, {name: cpu}, svc_cpu, gen_cpu, behind, peak MB)
    for rate in RATES:
        by0, svc0, gen0 = sampler.totals()
        sent0, t0 = producer.sent, now_ms()
        producer.rate = rate
        time.sleep(STEP)
        by1, svc1, gen1 = sampler.totals()
        sent1, t1 = producer.sent, now_ms()
        by = {n: round(c - by0.get(n, 0), 2) for n, c in by1.items() if c - by0.get(n, 0) > 0}
        cpu = sum(by.values())
        lag = sent1 - watcher.rows
        with sampler.lock:
            rss = sum(h for _, h in sampler.hwm.values()) / 1024
        steps.append((rate, t0, t1, sent0, sent1, by, svc1 - svc0, gen1 - gen0, lag, rss))
        log("%s: %d/s for %.0f s: %d sent (%.0f/s), %d visible, %d behind; cpu %.1f s"
            % (name, rate, STEP, sent1 - sent0, (sent1 - sent0) * 1000 / (t1 - t0), watcher.rows,
               lag, cpu))
        if pipe.poll() is not None:
            log("%s: the pipeline exited (%s)" % (name, pipe.returncode))
            break
        # clearly behind: more than two rolls and 10 s of this rate not yet visible
        if lag > rate * (2 * ROLL + 10):
            break
    producer.rate = 0
    producer.stop = True
    producer.join()
    total = producer.sent
    deadline = time.monotonic() + DRAIN
    while watcher.rows < total and time.monotonic() < deadline and pipe.poll() is None:
        time.sleep(0.5)
    watcher.stop = True
    watcher.join()
    sampler.stop = True
    sampler.join()
    sampler.sample()
    with sampler.lock:
        peaks = sorted(sampler.hwm.values(), key=lambda x: -x[1])
    try:
        os.killpg(pipe.pid, signal.SIGTERM)
        pipe.wait(timeout=30)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        os.killpg(pipe.pid, signal.SIGKILL)
    log("%s: %d of %d events visible at the end; reading the send stamps" % (name, watcher.rows, total))

    # latencies: each row's seen time minus its send time; files seen in one poll read at once
    by_seen = {}
    for p, (seen, _) in watcher.files.items():
        by_seen.setdefault(seen, []).append(p)
    lat = []  # (sent_ms, latency ms)
    for seen, paths in by_seen.items():
        lat.extend((s, seen - s) for s in stamps(paths))
    rss_mb = sum(h for _, h in peaks) / 1024
    procs = ", ".join("%s %d MB" % (n, h / 1024) for n, h in peaks if h > 4096)
    best = None
    for i, (rate, t0, t1, s0, s1, by, svc, gen, lag, rss) in enumerate(steps):
        cpu = sum(by.values())
        secs = (t1 - t0) / 1000
        mine = [(s, d) for s, d in lat if t0 <= s < t1]
        third = (t1 - t0) / 3
        mid = [d for s, d in mine if t0 + third <= s < t0 + 2 * third]
        end = [d for s, d in mine if s >= t0 + 2 * third]
        sent = s1 - s0
        # the step's events are s0..s1 in send order; equal counts mean all were seen
        complete = len(mine) >= 0.99 * sent
        grow = (pct(end, 0.5) - pct(mid, 0.5)) / 1000 if mid and end else float("inf")
        # and not clearly behind when the step ended (the rule that stops the ladder)
        kept = complete and grow <= GROW and lag <= rate * (2 * ROLL + 10)
        if kept and (best is None or best == i - 1):
            best = i
        row = {
            "name": name, "rate": rate, "achieved": round(sent * 1000 / (t1 - t0)),
            "p50": pct([d for _, d in mine], 0.5) / 1000, "p95": pct([d for _, d in mine], 0.95) / 1000,
            "kept_up": kept, "seen": len(mine), "sent": sent, "growth_s": grow, "behind_at_end": lag,
            "peak_rss_mb_so_far": round(rss),
            "cpu_s_per_M": cpu / max(sent, 1) * 1e6, "services_cpu_s_per_M": svc / max(sent, 1) * 1e6,
            # cores busy during the step: the pipeline's processes, broker + HDFS, generator
            "cores": {n: round(c / secs, 2) for n, c in by.items()},
            "services_cores": round(svc / secs, 2), "generator_cores": round(gen / secs, 2),
        }
        print("%s\tstep\t%s" % (name, json.dumps(row)), flush=True)
        with open(results, "a") as f:
            f.write("stream-load\t%s\t%s\n" % (name, json.dumps(row)))
    summary = {
        "name": name, "startup_s": startup, "max_rate": round((steps[best][4] - steps[best][3]) * 1000 / (steps[best][2] - steps[best][1]))
        if best is not None else 0,
        # the highest step asked more than the producer could send here
        "producer_limited": best is not None and (steps[best][4] - steps[best][3]) * 1000
        / (steps[best][2] - steps[best][1]) < 0.95 * steps[best][0],
        "peak_rss_mb": round(rss_mb), "processes": procs, "files": len(watcher.files),
        "visible": watcher.rows, "sent": total,
    }
    print("%s\tsummary\t%s" % (name, json.dumps(summary)), flush=True)
    with open(results, "a") as f:
        f.write("stream-load-summary\t%s\t%s\n" % (name, json.dumps(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
