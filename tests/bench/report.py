#!/usr/bin/env python3
"""report.py: the benchmark's arithmetic, for tests/bench/run.

    report.py rate OUT          lines/s a load generator's answers claim
    report.py report DIR ...    the table, the targets, the summary line;
                                appends the run to RESULTS.md

A line is counted only when the daemon answered it paid (ACSC, or PART
minus the refused lines) AND the ledger holds a WAGE transfer for it: per
sheet, min(answered paid, transfers in the ledger) -- AND the sheet's
payment order has been taken by the (fake) core: a sheet whose order is
not TAKEN counts no line. A scenario's time runs from its first request to
the last of its orders taken (or its last answer, if no order was taken),
so lines/s include the hand-off; "hand-off s" is how long after the last
answer the last order was taken. A sheet whose answer and ledger disagree
is reported as a discrepancy; so are the ledger invariants of
tests/integration/lib.sh (ledger_exact). Python standard library only.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys

# NO_CORE=1 (tests/bench/run): no order goes to a core; a line counts once
# answered paid and in the ledger.
NO_CORE = bool(os.environ.get("NO_CORE"))

TARGETS_NOTE = "issue 5, on a 2-core machine with fsync and synchronous_commit on"


def read_out(path):
    """Rows of a loadgen OUT file as dicts (missing file: no rows)."""
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) != 9:
                continue
            rows.append({"msg": c[0], "nlines": int(c[1]), "status": int(c[2]),
                         "grp": c[3], "refused": int(c[4]), "paid": int(c[5]),
                         "sched": int(c[6]), "sent": int(c[7]),
                         "done": int(c[8])})
    return rows


def read_meta(path):
    meta = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k:
                    try:
                        meta[k] = float(v)
                    except ValueError:
                        meta[k] = v
    return meta


def pct(values, p):
    """The p-th percentile (nearest rank) of values, or None."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def cmd_rate(path):
    rows = [r for r in read_out(path) if r["status"] > 0]
    if not rows:
        print(0)
        return
    wall = (max(r["done"] for r in rows) - min(r["sent"] for r in rows)) / 1e6
    paid = sum(r["paid"] for r in rows)
    print("%.0f" % (paid / wall if wall > 0 else 0))


class Scenario:
    """One load generator's run, checked against the ledger."""

    def __init__(self, rows, ledger, taken):
        self.rows = rows
        self.sent = len(rows)
        answered = [r for r in rows if r["status"] > 0]
        self.answered = len(answered)
        self.ok = sum(1 for r in rows if r["status"] == 200)
        self.statuses = {}
        for r in rows:
            key = "%d %s" % (r["status"], r["grp"]) if r["status"] > 0 else "no answer"
            self.statuses[key] = self.statuses.get(key, 0) + 1
        self.counted = 0
        self.discrepancies = []
        self.orders_taken = 0       # sheets answered paid whose order was taken
        self.orders_waiting = 0     # sheets answered paid whose order was not
        takens = []
        for r in rows:
            in_ledger = ledger.get(r["msg"], 0)
            if r["status"] > 0:
                t = taken.get(r["msg"])
                if t is not None:
                    takens.append(t)
                if r["paid"] > 0:
                    if t is not None:
                        self.orders_taken += 1
                    else:
                        self.orders_waiting += 1
                if t is not None or NO_CORE:
                    self.counted += min(r["paid"], in_ledger)
                if r["paid"] != in_ledger:
                    self.discrepancies.append((r["msg"], r["paid"], in_ledger))
        self.lines_sent = sum(r["nlines"] for r in rows)
        if answered:
            self.first = min(r["sent"] for r in answered)
            self.last_answer = max(r["done"] for r in answered)
            self.last_taken = max(takens) if takens else None
            self.last = max(self.last_answer, self.last_taken or 0)
            self.wall = (self.last - self.first) / 1e6
            self.handoff = ((self.last_taken - self.last_answer) / 1e6
                            if self.last_taken is not None else None)
        else:
            self.first = self.last = self.last_answer = 0
            self.last_taken = self.handoff = None
            self.wall = 0.0
        self.rate = self.counted / self.wall if self.wall > 0 else 0.0
        lat = [(r["done"] - r["sched"]) / 1000.0 for r in answered]
        self.p50 = pct(lat, 50)
        self.p99 = pct(lat, 99)
        self.max = max(lat) if lat else None


def fmt(v, spec="%.0f", none="-"):
    if v is None:
        return none
    try:
        return spec % float(v)
    except ValueError:
        return str(v)


def git(top, *args):
    try:
        return subprocess.run(["git", "--no-optional-locks", "-C", top] + list(args),
                              capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo", encoding="utf-8") as f:
            mem = int(f.readline().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    return "%d cores (%s), %d GB RAM, Linux %s" % (os.cpu_count() or 0, model,
                                                   mem + 1, platform.release())


def cmd_report(a):
    d = a.dir
    ledger, taken = {}, {}
    with open(os.path.join(d, "ledger.tsv"), encoding="utf-8") as f:
        for line in f:
            c = line.rstrip("\n").split("\t")
            if len(c) >= 2:
                ledger[c[0]] = int(c[1])
            if len(c) >= 3 and c[2]:
                taken[c[0]] = int(c[2])
    lmeta = read_meta(os.path.join(d, "ledger.meta"))

    sc = {}
    for name in ("A", "L", "H", "M", "C0-big", "C-small", "C-big", "C50-small", "C50-big"):
        path = os.path.join(d, name + ".out")
        if os.path.exists(path):
            sc[name] = Scenario(read_out(path), ledger, taken)
    meta = {n: read_meta(os.path.join(d, n + ".meta"))
            for n in ("raw", "A", "L", "H", "M", "C0", "C", "C50")}

    with open(os.path.join(d, "raw.out"), encoding="utf-8") as f:
        rs, rl, rsec, rp50, rp99, rcpu, rbcpu = f.read().split()
    raw = {"sheets": int(rs), "lines": int(rl), "wall": float(rsec),
           "rate": int(rl) / float(rsec), "p50": float(rp50), "p99": float(rp99)}
    meta["raw"]["client_cpu"] = float(rcpu)
    # (rbcpu, what its backends said of themselves before they exited, is
    # inside pg_cpu already: the postmaster reaped them; kept as a check)
    meta["raw"]["backends_cpu"] = float(rbcpu)
    meta["raw"]["daemon_cpu"] = 0
    for n in ("A", "L", "H", "M", "C0", "C", "C50"):
        cl = 0.0
        for log in (n, n + "-big", n + "-small"):
            path = os.path.join(d, log + ".log")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        if "own CPU" in line:
                            cl += float(line.split("own CPU")[1].split()[0])
        if meta[n]:
            meta[n]["client_cpu"] = cl

    def cpu(m, lines):
        """daemon and PostgreSQL CPU per 1,000 lines; other processes'
        load in cores (what neither we, the load generator nor the fake
        core used); the fake core's own CPU per 1,000 lines (it shares the
        machine, as a real core would not)."""
        if not m or not lines:
            return "- | - | - | - | - | -"
        other = (m.get("busy_cpu", 0) - m.get("daemon_cpu", 0) - m.get("pg_cpu", 0)
                 - m.get("client_cpu", 0) - m.get("fakecore_cpu", 0))
        ours = m.get("daemon_cpu", 0) + m.get("pg_cpu", 0) + m.get("client_cpu", 0)
        return "%s | %.1f | %.2f | %s | %.0f | %s" % (
            "%.1f" % (1e6 * m["daemon_cpu"] / lines) if m.get("daemon_cpu") else "-",
            1e6 * m.get("pg_cpu", 0) / lines, max(other, 0) / m["wall"],
            "%.2f" % (m["iowait_cpu"] / m["wall"]) if "iowait_cpu" in m else "-",
            2 * lines / ours if ours else 0,
            "%.1f" % (1e6 * m["fakecore_cpu"] / lines) if m.get("fakecore_cpu") else "-")

    def walpl(m, lines):
        return "%.0f" % (m["wal_bytes"] / lines) if m and lines else "-"

    def rss(m):
        return "%.0f" % (m["hwm_kb"] / 1024) if m and "hwm_kb" in m else "-"

    head = ("| scenario | sheets sent/200 | lines counted | s | lines/s | p50 ms | "
            "p99 ms | daemon peak RSS MB | WAL B/line | daemon CPU ms/1k lines | "
            "PostgreSQL CPU ms/1k lines | others' load, cores | I/O wait, cores | "
            "CPU-bound ceiling, lines/s | fake core CPU ms/1k lines | "
            "hand-off s (last order taken after last answer) |")
    sep = "|" + "---|" * 16
    table = [head, sep]
    table.append("| raw COPY, 2 conns, 1 commit/sheet | %d/- | %d | %.2f | %.0f | %.1f | %.1f | - | %s | %s | - |"
                 % (raw["sheets"], raw["lines"], raw["wall"], raw["rate"], raw["p50"],
                    raw["p99"], walpl(meta["raw"], raw["lines"]),
                    cpu(meta["raw"], raw["lines"])))
    labels = {"A": "A 1,000-line sheets, closed loop",
              "L": "L 1,000-line sheets one at a time",
              "H": "H 1,000-line at half of A, open loop",
              "M": "M mix 10..1,000 (median 100)",
              "C0-big": "C0 the big sheet alone",
              "C-small": "C 100-line flow beside the big sheet",
              "C-big": "C the big sheet",
              "C50-small": "C50 100-line flow beside it",
              "C50-big": "C50 the 50,000-line sheet"}
    for name in ("A", "L", "H", "M", "C0-big", "C-big", "C-small", "C50-big", "C50-small"):
        if name not in sc:
            continue
        s = sc[name]
        m = meta[name.split("-")[0]]
        lines_for_wal = s.counted
        if (name.endswith("-big") or name.endswith("-small")) and name != "C0-big":
            other = sc.get(name.split("-")[0] + ("-small" if name.endswith("-big") else "-big"))
            lines_for_wal = s.counted + (other.counted if other else 0)
        label = labels[name]
        if name.endswith("-big"):
            label += " (%d lines)" % s.lines_sent
        handoff = fmt(s.handoff, "%.2f")
        if s.orders_waiting:
            handoff += " (%d of %d orders not taken)" % (
                s.orders_waiting, s.orders_waiting + s.orders_taken)
        table.append("| %s | %d/%d | %d | %.2f | %.0f | %s | %s | %s | %s | %s | %s |"
                     % (label, s.sent, s.ok, s.counted, s.wall, s.rate,
                        fmt(s.p50, "%.1f"), fmt(s.p99, "%.1f"), rss(m),
                        walpl(m, lines_for_wal), cpu(m, lines_for_wal), handoff))

    # issue 5's targets
    A, H, M = sc.get("A"), sc.get("H"), sc.get("M")
    ratio = A.rate / raw["rate"] if A and raw["rate"] else 0.0
    checks = []

    def target(name, ok, got):
        checks.append("| %s | %s | %s |" % (name, got, "PASS" if ok else "FAIL"))

    target("1,000-line sheets >= 70,000 lines/s", A and A.rate >= 70000,
           "%.0f lines/s" % (A.rate if A else 0))
    # The measured ratio is the definition; on a shared machine the
    # two scenarios may have had different neighbours, so the ratio of
    # their CPU per line is shown too and the verdict takes the lower.
    def ceiling(m, lines):
        ours = m.get("daemon_cpu", 0) + m.get("pg_cpu", 0) + m.get("client_cpu", 0)
        return 2 * lines / ours if m and ours else 0.0
    cpu_ratio = (ceiling(meta["A"], A.counted) / ceiling(meta["raw"], raw["lines"])
                 if A and meta.get("A") and ceiling(meta["raw"], raw["lines"]) else 0.0)
    target(">= 0.5 of raw COPY", min(ratio, cpu_ratio) >= 0.5,
           "%.2f measured (raw %.0f lines/s); %.2f by CPU per line"
           % (ratio, raw["rate"], cpu_ratio))
    target("mix >= 50,000 lines/s", M and M.rate >= 50000, "%.0f lines/s" % (M.rate if M else 0))
    target("half load: p50 <= 25 ms, p99 <= 60 ms",
           H and H.p50 is not None and H.p50 <= 25 and H.p99 <= 60,
           "p50 %s ms, p99 %s ms at %.0f lines/s offered"
           % (fmt(H.p50 if H else None, "%.1f"), fmt(H.p99 if H else None, "%.1f"),
              (A.rate / 2 if A else 0)))
    for c in ("C", "C50"):
        big, small = sc.get(c + "-big"), sc.get(c + "-small")
        if not big:
            continue
        b = big.rows[0] if big.rows else None
        big_ok = (b is not None and b["status"] == 200 and big.counted == b["nlines"])
        big_s = (b["done"] - b["sent"]) / 1e6 if b and b["status"] > 0 else None
        during = [r for r in small.rows if b and r["status"] > 0 and
                  r["sched"] < b["done"] and r["done"] > b["sent"]] if small else []
        p99_during = pct([(r["done"] - r["sched"]) / 1000.0 for r in during], 99)
        what = ("HTTP %s %s, %d of %d lines paid, answered in %s s; 100-line sheets "
                "during it: %d, p99 %s ms (all: p99 %s ms)"
                % (b["status"] if b else "-", b["grp"] if b else "-", big.counted,
                   b["nlines"] if b else 0, fmt(big_s, "%.2f"), len(during),
                   fmt(p99_during, "%.0f"), fmt(small.p99 if small else None, "%.0f")))
        if c == "C":
            target("%d-line sheet paid <= 3 s, small p99 <= 100 ms" % (b["nlines"] if b else 0),
                   big_ok and big_s is not None and big_s <= 3 and
                   p99_during is not None and p99_during <= 100, what)
        else:
            checks.append("| (not a target) 50,000-line sheet | %s | - |" % what)
    c0 = sc.get("C0-big")
    if c0 and c0.rows:
        b = c0.rows[0]
        checks.append("| (not a target) the %d-line sheet alone | HTTP %s %s, %d lines paid in %s s | - |"
                      % (b["nlines"], b["status"], b["grp"], c0.counted,
                         fmt((b["done"] - b["sent"]) / 1e6 if b["status"] > 0 else None, "%.2f")))
    peak = max([m.get("hwm_kb", 0) for m in meta.values() if m] + [0]) / 1024
    target("daemon RSS <= 256 MB throughout", peak <= 256, "peak %.0f MB" % peak)
    if A and A.counted >= 1000000:
        target("one million lines paid <= 15 s", A.wall <= 15,
               "%d lines in %.1f s" % (A.counted, A.wall))
    else:
        proj = 1e6 / A.rate if A and A.rate else float("inf")
        target("one million lines paid <= 15 s (projected from A)", proj <= 15,
               "%.0f s at A's rate" % proj)

    disc = sum(len(s.discrepancies) for s in sc.values())
    exact = (lmeta.get("zero_sum") == 0 and lmeta.get("balance_mismatch") == 0 and
             lmeta.get("wage_twice") == 0 and lmeta.get("unpaid_accepted") == 0 and
             disc == 0)
    target("ledger exact, answers = ledger", exact,
           "sum %s, balance mismatches %s, WAGE twice %s, accepted unpaid %s, "
           "answer/ledger discrepancies %d"
           % (fmt(lmeta.get("zero_sum")), fmt(lmeta.get("balance_mismatch")),
              fmt(lmeta.get("wage_twice")), fmt(lmeta.get("unpaid_accepted")), disc))

    if "rules_s" in lmeta:
        checks.append("| (not a target) one run of the alert rules (wp_rules_run, "
                      "every 60 s in the daemon) on the world after the run | %.1f s | - |"
                      % lmeta["rules_s"])
    answers = []
    for name in ("A", "L", "H", "M", "C0-big", "C-big", "C-small", "C50-big", "C50-small"):
        if name in sc:
            answers.append("%s: %s" % (name, ", ".join(
                "%s x%d" % (k, v) for k, v in sorted(sc[name].statuses.items()))))

    summary = ("bench: %.0f lines/s end to end, %.0f lines/s raw COPY, ratio %.2f, "
               "p99 %s ms, peak RSS %s MB"
               % (A.rate if A else 0, raw["rate"], ratio,
                  fmt(H.p99 if H else None, "%.0f"), rss(meta.get("A"))))

    legend = ("CPU columns: per 1,000 lines counted (the load generator's own CPU "
              "is left out of both; PostgreSQL means all the processes of its cluster, autovacuum being off); others' load: CPU used on this machine by "
              "processes that are neither the daemon, our PostgreSQL, the load "
              "generator nor the fake core, in cores (the machine has %d); I/O wait: cores idle while "
              "a disk request was outstanding (/proc/stat iowait: while the disk is "
              "slow, every commit waits on its WAL flush and the cores it would have "
              "used sit idle); ceiling: 2 cores divided by "
              "the CPU that daemon, PostgreSQL and load generator spent per line, "
              "the rate if nothing else ran. A line counts only once its sheet's "
              "payment order was taken by the fake core (tests/tools/fakecore serve, "
              "no --auto); s runs from the first request to the last order taken; "
              "fake core CPU: what the stand-in for the bank's core (another machine "
              "in production) spent on this one, per 1,000 lines; "
              "hand-off s: how long after the last answer the last order was taken."
              % (os.cpu_count() or 0))
    out = []
    out.append("")
    out.extend(table)
    out.append("")
    out.append(legend)
    out.append("")
    out.append("| target (%s) | measured | |" % TARGETS_NOTE)
    out.append("|---|---|---|")
    out.extend(checks)
    out.append("")
    out.append("answers: " + "; ".join(answers))
    for s_name, s in sc.items():
        for msg, paid, led in s.discrepancies[:5]:
            out.append("DISCREPANCY %s %s: answered %d paid, ledger %d" % (s_name, msg, paid, led))
    print("\n".join(out))

    if a.record == "1":
        head_sha = git(a.top, "rev-parse", "--short", "HEAD") or "?"
        dirty = git(a.top, "status", "--porcelain", "--untracked-files=no")
        entry = []
        entry.append("")
        entry.append("## %s — %s run, commit %s%s" % (
            datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), a.mode, head_sha,
            " + uncommitted changes" if dirty else ""))
        entry.append("")
        entry.append("- machine: %s; load average at start in the run log" % machine())
        entry.append("- world: %s projects, %s rostered workers; loadgen %s connections "
                     "(closed loop), daemon pool %s connections; daemon %s; run took %s s"
                     % (a.projects, a.workers, a.conns, a.db_connections,
                        os.path.relpath(a.daemon, a.top) if a.daemon.startswith(a.top) else a.daemon,
                        a.elapsed))
        if a.note:
            entry.append("- note: %s" % a.note)
        entry.append("")
        entry.extend(table)
        entry.append("")
        entry.append(legend)
        entry.append("")
        entry.append("| target | measured | |")
        entry.append("|---|---|---|")
        entry.extend(checks)
        entry.append("")
        entry.append("answers: " + "; ".join(answers))
        entry.append("")
        entry.append("    " + summary)
        with open(a.results, "a", encoding="utf-8") as f:
            f.write("\n".join(entry) + "\n")
    print(summary)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "rate":
        cmd_rate(sys.argv[2])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["report"])
    ap.add_argument("dir")
    for k in ("mode", "projects", "workers", "conns", "db-connections", "daemon",
              "elapsed", "profile", "results", "record", "note", "top"):
        ap.add_argument("--" + k, default="")
    a = ap.parse_args()
    cmd_report(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
