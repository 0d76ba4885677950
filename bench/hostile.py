#!/usr/bin/env python3
"""Hostile load against the built distribution, with legitimate clients beside it.

Starts launcher/target/wharf (its default configuration: echo on TCP, UDP and TLS, the status
page over HTTP) on a small heap, runs the attacks of issue 14 mixed, bounded in count, for the
given time, while legitimate clients keep asking and counting every failure; samples the
server's heap (old generation after young collections), file descriptors and threads; prints
a summary and writes bench/results/hostile.json. bench/hostile --minutes 10 runs it.
"""
import argparse
import json
import os
import random
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
stop = threading.Event()
lock = threading.Lock()
counts = {}


def count(name, n=1):
    with lock:
        counts[name] = counts.get(name, 0) + n


def start_platform(heap):
    dist = os.path.join(ROOT, "launcher", "target", "wharf")
    home = tempfile.mkdtemp(prefix="wharf-hostile-")
    shutil.copytree(dist, home, symlinks=True, dirs_exist_ok=True,
                    ignore=lambda d, names: ["data"] if os.path.samefile(d, dist) else [])
    env = dict(os.environ)
    env["JAVA_OPTS"] = ("-Xmx%s -Dwharf.echo.port=0 -Dwharf.echo.udp.port=0 -Dwharf.echo.tls.port=0 "
                        "-Dwharf.http.port=0" % heap)
    log = open(os.path.join(home, "wharf.log"), "w+")
    proc = subprocess.Popen([os.path.join(home, "bin", "wharf"), "--no-shell"], stdout=log,
                            stderr=subprocess.STDOUT, env=env, cwd=home)
    ports = {}
    want = {("tcp", "echo"), ("udp", "echo"), ("ssl", "echo"), ("tcp", "status")}
    deadline = time.time() + 120
    while time.time() < deadline and len(ports) < len(want):
        log.seek(0)
        for m in re.finditer(r"listening (\w+) [^ ]+:(\d+) (\w+) ", log.read()):
            if (m.group(1), m.group(3)) in want:
                ports[(m.group(1), m.group(3))] = int(m.group(2))
        time.sleep(0.2)
    if len(ports) < len(want):
        proc.kill()
        sys.exit("the platform did not listen on every endpoint; see " + log.name)
    return proc, home, log, ports


def conn(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s


def read_answer(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"content-length: *(\d+)", head, re.I)
    n = int(m.group(1)) if m else 0
    while len(body) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


# ---- legitimate clients: every failure is counted ----

def legit_http(port):
    while not stop.is_set():
        try:
            with conn(port) as s:
                s.sendall(b"GET /status HTTP/1.1\r\nHost: wharf\r\nConnection: close\r\n\r\n")
                head, body = read_answer(s)
                if head.startswith(b"HTTP/1.1 200 ") and body.startswith(b"{"):
                    count("legit.http.ok")
                else:
                    count("legit.http.failed")
        except OSError as e:
            count("legit.http.failed")
            count("legit.http.failed." + type(e).__name__)
        stop.wait(0.05)


def legit_echo(port):
    while not stop.is_set():
        try:
            with conn(port) as s:
                line = ("hello %d\n" % random.randrange(1 << 30)).encode()
                s.sendall(line)
                got = b""
                while len(got) < len(line):
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    got += chunk
                count("legit.tcp.ok" if got == line else "legit.tcp.failed")
        except OSError as e:
            count("legit.tcp.failed")
            count("legit.tcp.failed." + type(e).__name__)
        stop.wait(0.05)


def tls_context():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def legit_tls(port):
    ctx = tls_context()
    while not stop.is_set():
        try:
            with ctx.wrap_socket(conn(port), server_hostname="localhost") as s:
                s.sendall(b"secret\n")
                got = b""
                while len(got) < 7:
                    chunk = s.recv(100)
                    if not chunk:
                        break
                    got += chunk
                count("legit.tls.ok" if got == b"secret\n" else "legit.tls.failed")
        except (OSError, ssl.SSLError) as e:
            count("legit.tls.failed")
            count("legit.tls.failed." + type(e).__name__)
        stop.wait(0.2)


def legit_udp(port):
    """A UDP client as real ones are (DNS, say): it asks again when no answer came within 1 s, 3 times."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1)
    while not stop.is_set():
        payload = os.urandom(16)
        for attempt in range(3):
            try:
                s.sendto(payload, ("127.0.0.1", port))
                while True:
                    got, _ = s.recvfrom(100)
                    if got == payload:
                        break  # (a late answer to an earlier attempt is passed over)
                count("legit.udp.ok")
                if attempt:
                    count("legit.udp.retried")
                break
            except OSError:
                continue
        else:
            count("legit.udp.failed")
        stop.wait(0.05)


# ---- attacks: each bounded in connections and rate ----

def attack_big_bodies(port, clients=60):
    """Finding 1: many clients each holding most of a 1 MiB body."""
    part = b"x" * 900_000
    while not stop.is_set():
        held = []
        for _ in range(clients):
            try:
                s = conn(port, timeout=5)
                s.sendall(b"POST /status HTTP/1.1\r\nHost: w\r\nContent-Length: 1000000\r\n\r\n")
                s.sendall(part)
                held.append(s)
                count("attack.bigbody")
            except OSError:
                count("attack.bigbody.refused")
        stop.wait(5)
        for s in held:
            s.close()


def attack_chunk_overflow(port):
    """Finding 2: a chunk size past any limit."""
    while not stop.is_set():
        try:
            with conn(port, timeout=5) as s:
                s.sendall(b"POST / HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n")
                s.sendall(b"y" * 65536)
                s.recv(100)
                count("attack.chunk")
        except OSError:
            count("attack.chunk")
        stop.wait(0.2)


def attack_pipeline_noread(port, clients=4):
    """Finding 3: pipelined requests from clients that never read."""
    while not stop.is_set():
        socks = []
        for _ in range(clients):
            try:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.settimeout(2)
                s.connect(("127.0.0.1", port))
                try:
                    s.sendall(b"GET /status HTTP/1.1\r\nHost: w\r\n\r\n" * 20_000)
                except OSError:
                    pass  # the server stopped reading: what it should do
                socks.append(s)
                count("attack.pipeline")
            except OSError:
                pass
        stop.wait(10)
        for s in socks:
            s.close()


MALFORMED = [
    b"GET / HTTP/1.9\r\nHost: w\r\n\r\n",
    b"GET / HTTP/1.1xyz\r\nHost: w\r\n\r\n",
    b"G\x00T / HTTP/1.1\r\nHost: w\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: w\r\nX: a\rb\r\n\r\n",
    b"GET / HTTP/1.1\nHost: w\n\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: w\r\nContent-Length: +3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET / HTTP/1.1\r\nHo st: w\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    b"\r\n" * 1000 + b"GET / HTTP/1.1\r\nHost: w\r\n\r\n",
]


def attack_malformed(port):
    """Findings 10 and 11: malformed requests as fast as one thread sends them."""
    while not stop.is_set():
        try:
            with conn(port, timeout=5) as s:
                s.sendall(random.choice(MALFORMED))
                head = s.recv(64)
                count("attack.malformed")
                if head.startswith(b"HTTP/1.1 2"):
                    count("attack.malformed.answered2xx")
        except OSError:
            count("attack.malformed")


def attack_slowloris(port, clients=300):
    """Headers trickled a byte at a time: the header deadline closes them."""
    socks = []
    while not stop.is_set():
        while len(socks) < clients:
            try:
                s = conn(port, timeout=2)
                s.sendall(b"GET / HTTP/1.1\r\n")
                socks.append(s)
                count("attack.slowloris")
            except OSError:
                break
        for s in list(socks):
            try:
                s.sendall(b"X")
            except OSError:
                socks.remove(s)
                s.close()
        stop.wait(5)
    for s in socks:
        s.close()


def attack_idle(port, clients=2000):
    """Thousands of idle connections held open."""
    socks = []
    while not stop.is_set():
        while len(socks) < clients and not stop.is_set():
            try:
                # From four addresses of their own: one address holds at most 1,000 connections
                # (the shipped maxConnectionsPerClient).
                s = socket.socket()
                s.settimeout(2)
                s.bind(("127.0.0.%d" % (20 + len(socks) % 4), 0))
                s.connect(("127.0.0.1", port))
                socks.append(s)
                count("attack.idle")
            except OSError:
                break
        stop.wait(5)
        alive = []
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    s.close()
                    continue
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                continue
            alive.append(s)
        socks = alive
    for s in socks:
        s.close()


def attack_tls(port):
    """Handshakes in a loop, garbage and resets on the TLS port."""
    ctx = tls_context()
    while not stop.is_set():
        try:
            with ctx.wrap_socket(conn(port, timeout=5), server_hostname="localhost"):
                count("attack.tls.handshake")
        except (OSError, ssl.SSLError):
            count("attack.tls.handshake")
        try:
            with conn(port, timeout=5) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: w\r\n\r\n")
                s.recv(100)
                count("attack.tls.plaintext")
        except OSError:
            count("attack.tls.plaintext")


def attack_resets(port):
    """Connect, send half a request, reset (SO_LINGER 0)."""
    while not stop.is_set():
        try:
            s = conn(port, timeout=2)
            s.sendall(b"POST / HTTP/1.1\r\nHost: w\r\nContent-Length: 100\r\n\r\nabc")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            count("attack.reset")
        except OSError:
            pass
        stop.wait(0.005)


def attack_udp_flood(port, sources=4):
    """Finding 5's reflection: a flood of datagrams from a few sources (the guard drops most)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(sources)]
    for i, s in enumerate(socks):
        s.bind(("127.0.0.%d" % (i + 2), 0))  # the attackers' own addresses, not the legitimate client's
        s.setblocking(False)
    while not stop.is_set():
        for s in socks:
            for _ in range(50):
                try:
                    s.sendto(b"z" * 512, ("127.0.0.1", port))
                    count("attack.udp.sent")
                except OSError:
                    pass
            try:
                while True:
                    s.recv(2048)
                    count("attack.udp.reflected")
            except OSError:
                pass
        stop.wait(0.01)


# ---- the server seen from outside ----

def live_heap(pid):
    """The heap in use right after a full collection: what the platform really holds."""
    subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], capture_output=True, text=True).stdout
    m = re.search(r"used (\d+)K", out)
    return int(m.group(1)) * 1024 if m else None


def sample(pid, full=False):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/status" % pid) as f:
        status = f.read()
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
    old = None
    out = subprocess.run(["jstat", "-gc", str(pid)], capture_output=True, text=True).stdout.split("\n")
    if len(out) >= 2:
        cols = dict(zip(out[0].split(), out[1].split()))
        old = float(cols.get("OU", "nan")) * 1024
    return {"t": time.time(), "fds": fds, "threads": threads, "rss": rss, "old": old,
            "live": live_heap(pid) if full else None}


def java_pid(proc):
    """bin/wharf execs java; the Popen pid is the JVM's."""
    return proc.pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--heap", default="256m")
    args = ap.parse_args()
    proc, home, log, ports = start_platform(args.heap)
    pid = java_pid(proc)
    http, echo, tls, udp = ports[("tcp", "status")], ports[("tcp", "echo")], ports[("ssl", "echo")], ports[("udp", "echo")]
    print("platform pid %d in %s: http %d, echo %d, tls %d, udp %d" % (pid, home, http, echo, tls, udp), flush=True)
    time.sleep(5)  # settle before the first sample (a baseline, not a synchronisation)
    samples = [sample(pid, full=True)]
    jobs = [(legit_http, http), (legit_echo, echo), (legit_tls, tls), (legit_udp, udp),
            (attack_big_bodies, http), (attack_chunk_overflow, http), (attack_pipeline_noread, http),
            (attack_malformed, http), (attack_slowloris, http), (attack_idle, echo), (attack_tls, tls),
            (attack_resets, http), (attack_udp_flood, udp)]
    threads = [threading.Thread(target=f, args=(p,), daemon=True) for f, p in jobs]
    for t in threads:
        t.start()
    end = time.time() + args.minutes * 60
    while time.time() < end and proc.poll() is None:
        time.sleep(10)
        if proc.poll() is None:
            samples.append(sample(pid, full=len(samples) % 6 == 0))
            s = samples[-1]
            print("%4.0f s  fds %5d  threads %3d  old gen %6.1f MiB  live %6s MiB  rss %6.1f MiB  legit failed %d" % (
                s["t"] - samples[0]["t"], s["fds"], s["threads"], (s["old"] or 0) / 2**20,
                "%.1f" % (s["live"] / 2**20) if s["live"] else "-", s["rss"] / 2**20,
                sum(v for k, v in counts.items() if re.match(r"legit\.\w+\.failed$", k))), flush=True)
    stop.set()
    for t in threads:
        t.join(30)
    time.sleep(3)
    alive = proc.poll() is None
    after = sample(pid, full=True) if alive else None
    if alive:
        proc.terminate()
        proc.wait(60)
    log.seek(0)
    text = log.read()
    result = {
        "minutes": args.minutes, "heap": args.heap, "alive_at_end": alive, "exit": proc.returncode,
        "counts": counts, "log_lines": text.count("\n"), "log_bytes": len(text),
        "samples": samples, "after_load": after,
    }
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "hostile.json"), "w") as f:
        json.dump(result, f, indent=1)
    legit_failed = sum(v for k, v in counts.items() if re.match(r"legit\.\w+\.failed$", k))
    legit_ok = sum(v for k, v in counts.items() if k.startswith("legit.") and k.endswith("ok"))
    first, last = samples[0:7], samples[-7:]

    def avg(rows, key):
        vals = [r[key] for r in rows if r.get(key) is not None]
        return sum(vals) / len(vals) if vals else float("nan")

    print("\n== %g minutes, -Xmx%s ==" % (args.minutes, args.heap))
    print("legitimate requests: %d ok, %d failed" % (legit_ok, legit_failed))
    for k in sorted(counts):
        print("  %-32s %d" % (k, counts[k]))
    print("platform alive at the end: %s; log %d lines, %d bytes" % (alive, result["log_lines"], len(text)))
    for key, unit, scale in (("fds", "", 1), ("threads", "", 1), ("old", " MiB", 2**20), ("live", " MiB", 2**20),
                             ("rss", " MiB", 2**20)):
        print("  %-8s first minute %8.1f%s  last minute %8.1f%s  max %8.1f%s" % (
            key, avg(first, key) / scale, unit, avg(last, key) / scale, unit,
            max((r[key] or 0) for r in samples) / scale, unit))
    if after:
        print("  before the load: fds %d, threads %d, live heap %.1f MiB" % (
            samples[0]["fds"], samples[0]["threads"], (samples[0]["live"] or 0) / 2**20))
        print("  after the load:  fds %d, threads %d, live heap %.1f MiB" % (
            after["fds"], after["threads"], (after["live"] or 0) / 2**20))
    print("the log's WARN lines, by kind:")
    kinds = {}
    for line in text.split("\n"):
        if line.startswith("WARN") or line.startswith("ERROR"):
            k = re.sub(r"\d+", "N", line)[:90]
            kinds[k] = kinds.get(k, 0) + 1
    for k, n in sorted(kinds.items(), key=lambda x: -x[1])[:15]:
        print("  %6d  %s" % (n, k))
    sys.exit(0 if alive and legit_failed == 0 else 1)


if __name__ == "__main__":
    main()
