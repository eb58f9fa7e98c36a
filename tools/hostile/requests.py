#!/usr/bin/env python3
"""Hostile requests against a running `itera serve` (see README.md in this folder).
usage: python3 tools/hostile/requests.py --url http://127.0.0.1:PORT [--pid PID] [--json]"""
import argparse, collections, json, os, random, socket, sys, threading, time, urllib.parse
import hostile_cases as cases
from hostile_net import RECORDS, Target, probe
fmt = lambda x: "-" if x is None else "%.1f" % x
CLASSES = [cases.utf8_path, cases.utf8_query, cases.utf8_header, cases.utf8_json, cases.malformed_json,
           cases.http_framing, cases.pipelining, cases.slow_clients, cases.flood, cases.oversized]

def proc_status(pid, key):  # a field of /proc/PID/status; None when the process is gone
    try:
        with open("/proc/%d/status" % pid) as f:
            return next((l.split()[1] for l in f if l.startswith(key + ":")), None)
    except (OSError, TypeError):
        return None

def rss_mb(pid):
    kb = proc_status(pid, "VmRSS")
    return int(kb) / 1024 if kb else None

def alive(pid):  # a zombie (dead, not yet reaped by its parent) counts as dead
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return proc_status(pid, "State") not in (None, "Z")

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, help="the server's process: crash and RSS checks")
    ap.add_argument("--json", action="store_true", help="the full record list as JSON on stdout")
    ap.add_argument("--only", help="comma-separated class names to run")
    ap.add_argument("--seed", type=int, help="payload randomness (default: the time)")
    ap.add_argument("--pace", type=float, default=0.025, help="seconds between requests from 127.0.0.1")
    ap.add_argument("--strict", action="store_true", help="also fail on expectation misses")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    t = Target(socket.gethostbyname(u.hostname or "127.0.0.1"), u.port or 80, a.pace)
    random.seed(seed := a.seed if a.seed is not None else int(time.time()))
    say = lambda *x: print(*x, file=sys.stderr if a.json else sys.stdout, flush=True)
    if probe(t, "/health", "start")["status"] != 200:
        say("the server at %s does not answer GET /health with 200; nothing tested" % a.url)
        return 2
    say("hostile requests against %s (seed %d)" % (a.url, seed))
    rss0, peak, crash, notes, done = rss_mb(a.pid), [rss_mb(a.pid) or 0], None, [], threading.Event()
    def sample():  # the RSS peak, also between the before/after readings of a class
        while not done.wait(0.25):
            peak[0] = max(peak[0], rss_mb(a.pid) or 0)
    threading.Thread(target=sample, daemon=True).start()
    for fn in CLASSES:
        if a.only and fn.__name__ not in a.only.split(","):
            continue
        before, n0, t0 = rss_mb(a.pid), len(RECORDS), time.monotonic()
        try:
            notes += fn(t) or []
        except Exception as e:  # noqa: BLE001 - a failure of the tool, reported, not a verdict
            notes.append("%s: the class stopped early: %r" % (fn.__name__, e))
        crash = fn.__name__ if a.pid and not alive(a.pid) else None
        if not crash:
            probe(t, "/health", "after " + fn.__name__)
        say("  %-15s %4d records in %5.1f s  RSS %s -> %s MB" % (fn.__name__, len(RECORDS) - n0,
            time.monotonic() - t0, fmt(before), fmt(rss_mb(a.pid))))
        if crash:
            say("  the server (pid %d) is gone after %s: stopping" % (a.pid, crash))
            break
    done.set()
    verdict = summary(say, rss0, peak[0] if a.pid else None, notes, crash, a.strict)
    if a.json:
        print(json.dumps(RECORDS, indent=1))
    return verdict

def show(say, title, rs, n=8):
    if rs and title:
        say(title + ":")
    for r in rs[:n]:
        say("  %-14s %-58s got %s%s%s %.0f ms %s" % (r["cls"], r["payload"][:58], r["status"],
            " field=%s" % r["field"] if r["field"] is not None else "",
            " (want %s)" % r["expected"] if "expected" in r else "", r["latency_ms"], r["note"] or r["body"][:50]))

def summary(say, rss0, peak, notes, crash, strict):
    reqs = [r for r in RECORDS if r["cls"] != "probe"]
    probes = [r for r in RECORDS if r["cls"] == "probe"]
    server_error = lambda r: isinstance(r["status"], int) and r["status"] >= 500 and not r.get("ok")
    by = {}
    for r in reqs:
        by.setdefault(r["cls"], []).append(r)
    say("\n%-15s %5s %5s %6s %6s %7s  statuses" % ("class", "reqs", "5xx", "misses", "noJSON", "max ms"))
    for cls, rs in by.items():
        hist = collections.Counter(str(r["status"]) for r in rs)
        say("%-15s %5d %5d %6d %6d %7.0f  %s" % (cls, len(rs), sum(map(server_error, rs)),
            sum(not r.get("ok", True) for r in rs), sum(r["error_json"] is False for r in rs),
            max(r["latency_ms"] for r in rs), " ".join("%s:%d" % kv for kv in sorted(hist.items()))))
    fives, misses = [r for r in reqs if server_error(r)], [r for r in reqs if not r.get("ok", True)]
    bad_probes = [r for r in probes if r["status"] != 200 or r["latency_ms"] > 2000]
    growth = None if peak is None or rss0 is None else peak - rss0
    say("\ntotal requests %d (+ %d health/metrics probes)" % (len(reqs), len(probes)))
    say("5xx on malformed input: %d" % len(fives))
    say("crash: %s" % ("the server died during " + crash if crash else "none"))
    say("probes: %d, failed or slower than 2 s: %d, max latency %.0f ms" % (
        len(probes), len(bad_probes), max((r["latency_ms"] for r in probes), default=0)))
    say("RSS: start %s MB, max %s MB, growth %s MB" % (fmt(rss0), fmt(peak), fmt(growth)))
    say("error bodies not UTF-8 JSON {error: {message, status, field}}: %d" % sum(r["error_json"] is False
                                                                                 for r in reqs))
    say("expectation misses (status, error field or time not the target behaviour): %d" % len(misses))
    [say("  " + n) for n in notes]
    if crash:
        show(say, "first unanswered in %s (the crash is at or just before these)" % crash,
             [r for r in by.get(crash, []) if r["status"] in ("closed", "reset", "refused", "timeout")], 4)
    show(say, "first 5xx", fives)
    show(say, "first failed probes", bad_probes)
    show(say, "first misses per class", [m for cls in by for m in [x for x in misses if x["cls"] == cls][:4]], 99)
    failed = [why for why, bad in (("crash", crash), ("5xx", fives), ("probes", bad_probes),
              ("RSS growth >= 200 MB", growth is not None and growth >= 200),
              ("expectation misses (--strict)", strict and misses)) if bad]
    say("\nverdict: " + ("PASS" if not failed else "FAIL (" + ", ".join(failed) + ")"))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
