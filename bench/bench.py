#!/usr/bin/env python3
"""The measurements of bench/run.sh (which installs, builds and starts the servers, then calls this).

  bench.py --env SERVERS_ENV --mailcfg BIN --work DIR [--runs 20] [--rtt-runs 10] [--rtt-ms 50]
           [--mailboxes 500] [--only connection,split,rtt,many,window] [--baseline OTHER_BIN]

Prints Markdown tables to stdout and writes them, with every raw figure, to DIR/results.{md,json}.
Every run of every tool is checked: a failed run stops the benchmark (no figure from a failure).
"""

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# --baseline [LABEL=]BIN (repeatable): other mailcfg binaries (older builds) measured alongside,
# interleaved, as the tool "mailcfg, LABEL".
BASELINES = []
PY = sys.executable
OUT = []


def say(text=""):
    print(text, flush=True)
    OUT.append(text)


def read_env(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def profile_text(e, authority, imaps, submission, mailboxes=None, concurrency=8):
    """A profile in mailcfg's TOML: the app-only account, one SMTP transport, IMAP mailboxes."""
    users = mailboxes or [("IMAP", e["MAILCFG_TEST_MAILBOX"])]
    t = f"""version = 1

[[accounts]]
name = "App"
provider = "microsoft"
flow = "app-only"
tenant = "{e['MAILCFG_TEST_TENANT']}"
client_id = "{e['MAILCFG_TEST_CLIENT_ID']}"
authority = "{authority}"
scopes = ["{e['MAILCFG_TEST_SCOPE']}"]

[[transports]]
name = "SMTP"
host = "127.0.0.1"
port = {submission}
encryption = "starttls"
username = "{e['MAILCFG_TEST_MAILBOX']}"
account = "App"
"""
    for name, user in users:
        t += f"""
[[mailboxes]]
name = "{name}"
protocol = "imap"
host = "127.0.0.1"
port = {imaps}
encryption = "tls"
user = "{user}"
account = "App"
"""
    t += f"""
[tls]
ca_file = "{e['MAILCFG_TEST_CA']}"

[probe]
concurrency = {concurrency}
"""
    return t


class Setup:
    """Paths, ports and the commands of every tool for one set of ports (direct or delayed)."""

    def __init__(self, e, mailcfg, work, name, idp, imaps, submission):
        self.e = e
        self.mailcfg = mailcfg
        authority = f"http://127.0.0.1:{idp}"
        self.token_url = f"{authority}/{e['MAILCFG_TEST_TENANT']}/oauth2/v2.0/token"
        self.profile = work / f"{name}.toml"
        self.profile.write_text(profile_text(e, authority, imaps, submission))
        self.imaps, self.submission = str(imaps), str(submission)
        self.user, self.ca = e["MAILCFG_TEST_MAILBOX"], e["MAILCFG_TEST_CA"]

    def mailcfg_cmd(self, test, binary=None):
        binary = binary or self.mailcfg
        base = [binary, "test", "--profile", str(self.profile), "--json"]
        return {
            "token": [binary, "token", "--profile", str(self.profile), "--account", "App", "--json"],
            "imap": base + ["--mailbox", "IMAP"],
            "smtp": base + ["--transport", "SMTP"],
            "smtp-send": base + ["--transport", "SMTP", "--send-to", self.user],
            "profile": base,
        }[test]

    def other_cmd(self, tool, test, token_url=None):
        head = [PY, str(HERE / "py_client.py")] if tool == "python" else ["bash", str(HERE / "curl_client.sh")]
        args = [token_url or self.token_url, self.e["MAILCFG_TEST_CLIENT_ID"], self.e["MAILCFG_TEST_SCOPE"]]
        host = "127.0.0.1"
        if test == "token":
            return head + ["token"] + args
        if test == "imap":
            return head + ["imap"] + args + [host, self.imaps, self.user, self.ca]
        if test in ("smtp", "smtp-send"):
            extra = ["--send"] if test == "smtp-send" and tool == "python" else []
            return head + ["smtp"] + args + [host, self.submission, self.user, self.ca] + extra
        if test == "profile":
            return head + ["profile"] + args + [host, self.imaps, self.submission, self.user, self.ca]
        raise ValueError(test)


def run_env(extra=None):
    env = dict(os.environ)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.update(extra or {})
    return env


def timed(cmd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(
            f"benchmark run failed (exit {p.returncode}): {' '.join(cmd)}\n"
            f"stdout: {p.stdout.decode(errors='replace')[-2000:]}\nstderr: {p.stderr.decode(errors='replace')[-2000:]}"
        )
    return took


def cases_for(s, tests, env_secret, token, python=True):
    """(test, tool, command, env) for every tool that can do the test."""
    env = run_env({"MAILCFG_CLIENT_SECRET": env_secret})
    env_tok = run_env({"MAILCFG_CLIENT_SECRET": env_secret, "MAILCFG_BENCH_TOKEN": token or ""})
    out = []
    for test in tests:
        out.append((test, "mailcfg", s.mailcfg_cmd(test), env))
        for label, binary in BASELINES:
            out.append((test, f"mailcfg, {label}", s.mailcfg_cmd(test, binary), env))
        if test != "smtp":  # curl cannot stop after RCPT TO: its SMTP test is smtp-send
            out.append((test, "curl", s.other_cmd("curl", test), env))
        if python:
            out.append((test, "python", s.other_cmd("python", test), env))
        if token and test != "token":
            if test != "smtp":
                out.append((test, "curl, token given", s.other_cmd("curl", test, "-"), env_tok))
            if python:
                out.append((test, "python, token given", s.other_cmd("python", test, "-"), env_tok))
    return out


def measure(cases, runs):
    """Runs every case `runs` times, interleaved (round r runs all cases, in an order rotated by r)."""
    times = {(c[0], c[1]): [] for c in cases}
    for c in cases:  # one warm-up run each (page cache, Dovecot's first login of the mailbox)
        timed(c[2], c[3])
    for r in range(runs):
        k = r % len(cases)
        for test, tool, cmd, env in cases[k:] + cases[:k]:
            times[(test, tool)].append(timed(cmd, env))
    return times


def ms(x):
    return f"{x * 1000:.0f}"


def fetch_token(s, secret):
    cmd = [s.mailcfg, "token", "--profile", str(s.profile), "--account", "App", "--show-token"]
    p = subprocess.run(cmd, env=run_env({"MAILCFG_CLIENT_SECRET": secret}), capture_output=True, check=True)
    return p.stdout.decode().strip()


TEST_NAMES = {
    "token": "token only (client credentials)",
    "imap": "IMAP (IMAPS, XOAUTH2, EXAMINE INBOX)",
    "smtp": "SMTP (STARTTLS, XOAUTH2, MAIL FROM + RCPT TO + RSET)",
    "smtp-send": "SMTP sending a short message (… DATA)",
    "profile": "profile: token + IMAP + SMTP",
}

# Round trips a careful client cannot avoid (see BENCHMARKS.md for the derivation).
MINIMUM = {"token": 2, "imap": 2 + 5, "smtp": 2 + 9, "smtp-send": 2 + 10, "profile": 2 + 9}
MINIMUM_SEQUENTIAL = {"profile": 2 + 5 + 9}


def connection(s, secret, runs, token, results, key, title, rtt=None, base=None, tests=None, python=True):
    """One table; with `rtt`, round trips as (median − the loopback median in `base`) / RTT."""
    tests = tests or ["token", "imap", "smtp", "smtp-send", "profile"]
    cases = cases_for(s, tests, secret, token, python)
    times = measure(cases, runs)
    say(f"### {title}")
    say()
    if rtt:
        say("| test | tool | median ms | min | max | median / RTT | round trips: (median − loopback median) / RTT | protocol minimum | ratio to curl |")
        say("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    else:
        say("| test | tool | median ms | min | max | ratio to curl |")
        say("|---|---|---:|---:|---:|---:|")
    for test in tests:
        curl_key = (test if test != "smtp" else "smtp-send", "curl")
        curl_med = statistics.median(times[curl_key]) if curl_key in times else None
        for (t, tool), v in times.items():
            if t != test:
                continue
            med = statistics.median(v)
            ratio = f"{med / curl_med:.2f}" if curl_med else "–"
            if test == "smtp" and tool == "mailcfg":
                ratio += " (vs curl's send)"
            row = f"| {TEST_NAMES[test]} | {tool} | {ms(med)} | {ms(min(v))} | {ms(max(v))} |"
            if rtt:
                minimum = MINIMUM[test]
                if tool.endswith("token given"):
                    minimum -= 2
                m = f"{minimum}"
                if test in MINIMUM_SEQUENTIAL:
                    seq = MINIMUM_SEQUENTIAL[test] - (2 if tool.endswith("token given") else 0)
                    m += f" ({seq} one after the other)"
                direct = (base or {}).get(f"{test}/{tool}")
                net = f"{(med - direct['median_ms'] / 1000) / rtt:.1f}" if direct else "–"
                row += f" {med / rtt:.1f} | {net} | {m} |"
            row += f" {ratio} |"
            say(row)
            results.setdefault(key, {"title": title})[f"{test}/{tool}"] = {
                "median_ms": med * 1000,
                "min_ms": min(v) * 1000,
                "max_ms": max(v) * 1000,
                "runs_ms": [x * 1000 for x in v],
            }
    say()


def many(e, mailcfg, work, secret, n, results):
    users = [(f"box{i:04d}", f"box{i:04d}@example.test") for i in range(1, n + 1)]
    authority = e["MAILCFG_TEST_AUTHORITY"]
    prof = work / "many.toml"
    prof.write_text(profile_text(e, authority, e["MAILCFG_TEST_IMAPS_PORT"], e["MAILCFG_TEST_SUBMISSION_PORT"], users))
    env = run_env({"MAILCFG_CLIENT_SECRET": secret})
    time_bin = "/usr/bin/time"

    def one(conc):
        out = work / "many.out"
        cmd = [time_bin, "-v", mailcfg, "test", "--profile", str(prof), "--json", "--concurrency", str(conc)]
        cmd += [x for u in users for x in ("--mailbox", u[0])]
        busy0 = machine_busy()
        t = time.perf_counter()
        with open(out, "wb") as o:
            p = subprocess.run(cmd, env=env, stdout=o, stderr=subprocess.PIPE, check=False)
        took = time.perf_counter() - t
        busy = machine_busy() - busy0
        summary = json.loads(out.read_text().strip().splitlines()[-1])
        rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
        cpu = sum(float(x) for x in re.findall(rb"(?:User|System) time \(seconds\): ([0-9.]+)", p.stderr))
        if p.returncode != 0 or summary.get("passed") != n:
            raise SystemExit(f"many mailboxes, concurrency {conc}: exit {p.returncode}, summary {summary}")
        return took, rss, cpu, busy

    one(64)  # warm-up: Dovecot creates the 500 homes at their first login
    say(f"### {n} mailboxes, one app-only token (`mailcfg test --concurrency N`, 3 runs each)")
    say()
    say("| concurrency | median s | mailboxes/s (median) | best mailboxes/s | peak RSS MB (max of runs) | mailcfg CPU s (user+sys) | mailcfg CPU ms per mailbox | whole machine CPU s | machine CPU ms per mailbox |")
    say("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for conc in (1, 8, 32, 64):
        runs = [one(conc) for _ in range(3)]
        med = statistics.median(r[0] for r in runs)
        best = min(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 1024
        cpu = statistics.median(r[2] for r in runs)
        busy = statistics.median(r[3] for r in runs)
        say(f"| {conc} | {med:.2f} | {n / med:.0f} | {n / best:.0f} | {rss:.1f} | {cpu:.2f} | {cpu * 1000 / n:.2f} | {busy:.2f} | {busy * 1000 / n:.1f} |")
        results.setdefault("many", {})[str(conc)] = {
            "seconds": [r[0] for r in runs],
            "max_rss_kb": [r[1] for r in runs],
            "mailcfg_cpu_s": [r[2] for r in runs],
            "machine_cpu_s": [r[3] for r in runs],
        }
    say()
    say("mailcfg CPU: its own user+sys time (GNU time); whole machine: busy time of all CPUs from /proc/stat")
    say("over the run (Dovecot's login, auth and imap processes, the identity provider's introspection, mailcfg).")
    say()


def machine_busy():
    """CPU seconds all CPUs spent busy so far (/proc/stat: everything but idle and iowait)."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def proc_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def proc_status(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def window(mailcfg, work, results, starts=5):
    display = f":{150 + os.getpid() % 50}"
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", "1280x860x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if subprocess.run(["xdpyinfo", "-display", display], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        xdg = tempfile.mkdtemp(dir=work)
        env = run_env({
            "DISPLAY": display,
            "XDG_RUNTIME_DIR": xdg,
            "XDG_CONFIG_HOME": str(work / "window-config"),
            "MAILCFG_FIRST_FRAME_REPORT": "1",
        })
        firsts, inside = [], []
        rss_start = rss_idle = ticks = hwm = None
        for i in range(starts):
            errf = work / f"window{i}.err"
            with open(errf, "wb") as err:
                t0 = time.time()
                p = subprocess.Popen([mailcfg], env=env, stdout=subprocess.DEVNULL, stderr=err)
                line = None
                for _ in range(400):
                    m = re.search(r"first frame at unix_ms=(\d+), (\d+) ms", errf.read_text(errors="replace"))
                    if m:
                        line = m
                        break
                    if p.poll() is not None:
                        break
                    time.sleep(0.025)
                if line is None:
                    p.kill()
                    raise SystemExit(f"the window never drew a frame: {errf.read_text(errors='replace')[-2000:]}")
                firsts.append(int(line.group(1)) / 1000 - t0)
                inside.append(int(line.group(2)) / 1000)
                if i == starts - 1:
                    time.sleep(2)
                    rss_start = proc_status(p.pid, "VmRSS")
                    before = proc_ticks(p.pid)
                    time.sleep(10)
                    ticks = proc_ticks(p.pid) - before
                    rss_idle = proc_status(p.pid, "VmRSS")
                    hwm = proc_status(p.pid, "VmHWM")
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        hz = os.sysconf("SC_CLK_TCK")
        size = Path(mailcfg).stat().st_size
        stripped = "not stripped" not in subprocess.run(["file", "-L", mailcfg], capture_output=True, text=True).stdout
        say(f"### The window under Xvfb (release build, {starts} starts, first-start screen, no profile)")
        say()
        say("| figure | value |")
        say("|---|---:|")
        say(f"| start → first frame, wall clock from exec (median of {starts}) | {ms(statistics.median(firsts))} ms (min {ms(min(firsts))}, max {ms(max(firsts))}) |")
        say(f"| inside the process: window code start → first frame (median) | {ms(statistics.median(inside))} ms |")
        say(f"| resident memory 2 s after the first frame | {rss_start / 1024:.1f} MB |")
        say(f"| resident memory after 10 s idle (peak so far) | {rss_idle / 1024:.1f} MB ({hwm / 1024:.1f} MB) |")
        say(f"| CPU over 10 s idle (utime+stime) | {ticks} ticks = {ticks * 1000 // hz} ms = {ticks / hz / 10 * 100:.1f} % |")
        say(f"| release binary | {size / 1e6:.1f} MB ({'stripped' if stripped else 'NOT stripped'}) |")
        say()
        results["window"] = {
            "first_frame_s": firsts,
            "inside_s": inside,
            "rss_kb_start": rss_start,
            "rss_kb_idle": rss_idle,
            "hwm_kb": hwm,
            "idle_ticks_10s": ticks,
            "clk_tck": hz,
            "binary_bytes": size,
            "stripped": stripped,
        }
    finally:
        xvfb.terminate()
        xvfb.wait()


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next(l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
    ver = lambda cmd: subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "curl": ver(["curl", "--version"]),
        "python": platform.python_version(),
        "dovecot": ver(["dovecot", "--version"]),
    }


def rounded_rt(results, key, case):
    """Round trips of one case: (median with delay − loopback median) / RTT, or None."""
    rtt, base = results.get(key), results.get("loopback")
    if not rtt or not base or case not in rtt or case not in base:
        return None
    return (rtt[case]["median_ms"] - base[case]["median_ms"]) / rtt["rtt_ms"]


def goals(results, rtt_key):
    """The figures against the goals of issue 18 (and the older ones of issue 8 still tracked)."""
    rows = []

    def ratio(key, test, curl_test=None):
        t = results.get(key)
        if not t or f"{test}/mailcfg" not in t or f"{curl_test or test}/curl" not in t:
            return None
        return t[f"{test}/mailcfg"]["median_ms"] / t[f"{curl_test or test}/curl"]["median_ms"]

    for key, where in (("loopback", "loopback, Dovecot"), ("split", "split-write server")):
        parts, ok = [], True
        for test, curl_test, name in (("imap", None, "IMAP"), ("smtp", "smtp-send", "SMTP"), ("smtp-send", None, "SMTP sending")):
            r = ratio(key, test, curl_test)
            if r is None:
                continue
            parts.append(f"{name} {r:.2f}")
            ok = ok and r <= 0.8
        if parts:
            rows.append((f"one test ≤ 0.8 × curl, {where}, process start included", ", ".join(parts), "met" if ok else "**missed**"))
    if rtt_key in results:
        parts, ok = [], True
        for test, name in (("imap", "IMAP"), ("smtp", "SMTP"), ("smtp-send", "SMTP sending"), ("profile", "profile")):
            rt = rounded_rt(results, rtt_key, f"{test}/mailcfg")
            if rt is None:
                continue
            parts.append(f"{name} {rt:.1f} ({MINIMUM[test]})")
            ok = ok and round(rt) <= MINIMUM[test]
        rows.append(("round trips = the protocol minimum (token included), rounded", ", ".join(parts), "met" if ok else "**missed**"))
    many = results.get("many")
    if many:
        n = results["mailboxes"]
        cpu = max(statistics.median(v["mailcfg_cpu_s"]) for v in many.values()) * 1000 / n
        rss = max(max(v["max_rss_kb"]) for v in many.values()) / 1024
        rows.append((f"{n} mailboxes, one token: mailcfg's CPU ≤ 1 ms per mailbox (worst concurrency)", f"{cpu:.2f} ms", "met" if cpu <= 1 else "**missed**"))
        rows.append((f"{n} mailboxes: peak memory < 50 MB", f"{rss:.1f} MB", "met" if rss < 50 else "**missed**"))
    w = results.get("window")
    if w:
        first = statistics.median(w["first_frame_s"]) * 1000
        rows.append(("window: first frame < 300 ms", f"{first:.0f} ms", "met" if first < 300 else "**missed**"))
        rows.append(("window: CPU 0 % idle", f"{w['idle_ticks_10s']} ticks in 10 s", "met" if w["idle_ticks_10s"] == 0 else "**missed**"))
        mb = w["binary_bytes"] / 1e6
        rows.append(("release binary < 20 MB stripped", f"{mb:.1f} MB", "met" if mb < 20 and w["stripped"] else "**missed**"))
    say("### The figures against the goals")
    say()
    say("| goal | measured | verdict |")
    say("|---|---|---|")
    for r in rows:
        say(f"| {r[0]} | {r[1]} | {r[2]} |")
    say()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--mailcfg", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rtt-runs", type=int, default=10)
    ap.add_argument("--rtt-ms", type=float, default=50.0)
    ap.add_argument("--mailboxes", type=int, default=500)
    ap.add_argument("--only", default="connection,split,rtt,many,window")
    ap.add_argument("--netem", default="unknown", help="what run.sh found about tc netem")
    ap.add_argument("--baseline", action="append", default=[], help="[LABEL=]BIN: another mailcfg binary measured alongside (A/B)")
    a = ap.parse_args()
    for i, b in enumerate(a.baseline):
        label, _, binary = b.rpartition("=")
        BASELINES.append((label or f"baseline {i + 1}", binary))
    only = set(a.only.split(","))
    e = read_env(a.env)
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    secret = e["MAILCFG_TEST_CLIENT_SECRET"]
    results = {"machine": machine(), "netem": a.netem, "mailboxes": a.mailboxes}
    m = results["machine"]
    say(f"## mailcfg benchmarks, {m['date']}")
    say()
    say(f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, Linux {m['kernel']}; {m['curl']}; Python {m['python']}; Dovecot {m['dovecot']}.")
    say()
    idp_port = e["MAILCFG_TEST_AUTHORITY"].rsplit(":", 1)[1]
    direct = Setup(e, a.mailcfg, work, "one", idp_port, e["MAILCFG_TEST_IMAPS_PORT"], e["MAILCFG_TEST_SUBMISSION_PORT"])
    token = fetch_token(direct, secret) if only & {"connection", "split"} else None
    if "connection" in only:
        title = f"One connection test on loopback ({a.runs} runs each, interleaved)"
        connection(direct, secret, a.runs, token, results, "loopback", title)
    if "split" in only:
        split = Setup(e, a.mailcfg, work, "split", idp_port, e["MAILCFG_TEST_SPLIT_IMAPS_PORT"], e["MAILCFG_TEST_SPLIT_SUBMISSION_PORT"])
        title = (
            f"The same through the split-write server (each reply line its own write, no TCP_NODELAY; "
            f"tests/support/split.rs; {a.runs} runs each, interleaved)"
        )
        connection(split, secret, a.runs, token, results, "split", title, tests=["imap", "smtp", "smtp-send", "profile"], python=False)
    rtt_key = "rtt"
    if "rtt" in only:
        ports = [free_port() for _ in range(3)]
        targets = [idp_port, e["MAILCFG_TEST_IMAPS_PORT"], e["MAILCFG_TEST_SUBMISSION_PORT"]]
        proxy = subprocess.Popen(
            [PY, str(HERE / "delay_proxy.py"), str(a.rtt_ms / 2)] + [f"{p}:{t}" for p, t in zip(ports, targets)],
            stdout=subprocess.PIPE,
        )
        try:
            if proxy.stdout.readline().strip() != b"ready":
                raise SystemExit("the delay proxy did not start")
            delayed = Setup(e, a.mailcfg, work, "delayed", *ports)
            rtt_token = fetch_token(delayed, secret)
            connection(
                delayed, secret, a.rtt_runs, rtt_token, results, rtt_key,
                f"Round trips: the same through {a.rtt_ms:.0f} ms of round-trip time ({a.rtt_runs} runs each, interleaved; "
                f"delay proxy, tc netem: {a.netem})",
                rtt=a.rtt_ms / 1000,
                base=results.get("loopback"),
            )
            results[rtt_key]["rtt_ms"] = a.rtt_ms
        finally:
            proxy.terminate()
            proxy.wait()
    if "many" in only:
        many(e, a.mailcfg, work, secret, a.mailboxes, results)
    if "window" in only:
        window(a.mailcfg, work, results)
    goals(results, rtt_key)
    (work / "results.md").write_text("\n".join(OUT) + "\n")
    (work / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
