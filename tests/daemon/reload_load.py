#!/usr/bin/python3
"""N clients doing INSTREAM in a loop while RELOAD is sent repeatedly.

usage: reload_load.py TARGET SECONDS CLIENTS RELOAD_EVERY_S EICAR_FILE
                      [METRICS_PORT MIN_RELOADS MAX_SECONDS]
Every reply must be exactly the expected one (EICAR found, clean OK);
anything else (an error reply, a reset, a timeout) is a failure. Prints the
counts; exits 1 on any failure. Bounded: stops by itself after SECONDS, or,
with METRICS_PORT, once at least SECONDS have passed and the daemon reports
MIN_RELOADS completed reloads, and after MAX_SECONDS at the latest: on a
loaded machine (or under a sanitizer) one load can take most of SECONDS, and
the point is that swaps happen while the clients run, not how many fit.
"""
import http.client
import os
import socket
import struct
import sys
import threading
import time

target, seconds, nclients, every, eicar_path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
EICAR = open(eicar_path, "rb").read()
CLEAN = b"just some clean text, nothing to see here\n" * 200
EXPECT = {True: b"stream: Eicar-Test-Signature.UNOFFICIAL FOUND\0", False: b"stream: OK\0"}


def connect():
    if target.startswith("tcp:"):
        return socket.create_connection(("127.0.0.1", int(target[4:])), timeout=30)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(target)
    return s


def exchange(payload):
    s = connect()
    try:
        s.sendall(payload)
        out = b""
        while True:
            d = s.recv(4096)
            if not d:
                return out
            out += d
    finally:
        s.close()


lock = threading.Lock()
counts = {"ok": 0, "fail": 0, "reloads": 0}
failures = []
start = time.time()
deadline = start + seconds
metrics_port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
min_reloads = int(sys.argv[7]) if len(sys.argv) > 7 else 0
max_seconds = float(sys.argv[8]) if len(sys.argv) > 8 else seconds


def reloads_ok():
    try:
        c = http.client.HTTPConnection("127.0.0.1", metrics_port, timeout=10)
        c.request("GET", "/metrics")
        body = c.getresponse().read().decode()
        c.close()
    except OSError:
        return 0
    for line in body.splitlines():
        if line.startswith('wardd_reloads_total{result="ok"} '):
            return int(line.split()[-1])
    return 0


def watcher():
    """Moves the deadline on until MIN_RELOADS reloads completed (bounded)."""
    global deadline
    while metrics_port and time.time() < start + max_seconds:
        if time.time() >= deadline - 1:
            if reloads_ok() >= min_reloads:
                return
            deadline = min(time.time() + 2, start + max_seconds)
        time.sleep(0.5)


def client(i):
    n = 0
    while time.time() < deadline:
        infected = (n + i) % 2 == 0
        data = EICAR if infected else CLEAN
        payload = b"zINSTREAM\0" + struct.pack(">I", len(data)) + data + struct.pack(">I", 0)
        try:
            r = exchange(payload)
        except OSError as e:
            r = ("EXC %s" % e).encode()
        with lock:
            if r == EXPECT[infected]:
                counts["ok"] += 1
            else:
                counts["fail"] += 1
                if len(failures) < 10:
                    failures.append(r)
        n += 1


def reloader():
    while time.time() < deadline:
        try:
            r = exchange(b"zRELOAD\0")
        except OSError as e:
            r = ("EXC %s" % e).encode()
        with lock:
            if r == b"RELOADING\0":
                counts["reloads"] += 1
            else:
                counts["fail"] += 1
                failures.append(b"RELOAD: " + r)
        time.sleep(every)


threads = [threading.Thread(target=client, args=(i,)) for i in range(nclients)]
threads.append(threading.Thread(target=reloader))
threads.append(threading.Thread(target=watcher))
for t in threads:
    t.start()
for t in threads:
    t.join()
print("requests ok=%d failed=%d reload_commands=%d" % (counts["ok"], counts["fail"], counts["reloads"]))
for f in failures:
    print("failure: %r" % f[:200])
sys.exit(1 if counts["fail"] or counts["ok"] == 0 else 0)
