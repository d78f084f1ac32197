#!/usr/bin/python3
"""Hostile and slow clients against wardd's per-connection limits.

usage: hostile.py SOCKET
The daemon must be configured with StreamMaxLength 1K, CommandReadTimeout 1,
IdleTimeout 1, ReadTimeout 2, MaxThreads 2, MaxQueue 3 (test_wardd_limits.sh).
The expected replies are clamd 1.4.6's, measured with the same limits.
"""
import array
import os
import random
import socket
import struct
import sys
import threading
import time

SOCK = sys.argv[1]
fails = 0


def conn(timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(SOCK)
    return s


def read_all(s):
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d
    except socket.timeout:
        return out + b"<TIMEOUT>"
    except ConnectionResetError:
        return out


def check(name, cond, detail=""):
    global fails
    if cond:
        print("ok   %s %s" % (name, detail))
    else:
        fails += 1
        print("FAIL %s %s" % (name, detail))


def instream(chunks, pause=0.0):
    s = conn()
    s.sendall(b"zINSTREAM\0")
    try:
        for c in chunks:
            s.sendall(struct.pack(">I", len(c)) + c)
            time.sleep(pause)
        s.sendall(struct.pack(">I", 0))
    except OSError:
        pass
    return read_all(s)


def ping():
    s = conn()
    s.sendall(b"zPING\0")
    return read_all(s)


LIMIT = b"INSTREAM size limit exceeded. ERROR\0"
check("stream at the limit", instream([b"a" * 1024]) == b"stream: OK\0")
check("stream one past", instream([b"a" * 1025]) == LIMIT)
check("stream in two chunks past", instream([b"a" * 600, b"b" * 600], 0.1) == LIMIT)
# A declared 2 GiB chunk is refused from its header: nothing is read or allocated.
s = conn()
t0 = time.time()
s.sendall(b"zINSTREAM\0\x7f\xff\xff\xff")
r = read_all(s)
check("declared 2 GiB chunk", r == LIMIT and time.time() - t0 < 1, "%r" % r)
s = conn()
s.sendall(b"zINSTREAM\0\xff\xff\xff\xff" + b"x" * 1000)
check("declared 4 GiB chunk", read_all(s) == LIMIT)

t0 = time.time()
s = conn()
r = read_all(s)
dt = time.time() - t0
check("silent client", r == b"COMMAND READ TIMED OUT\n" and 0.8 < dt < 3, "%r after %.1f s" % (r, dt))
t0 = time.time()
s = conn()
s.sendall(b"zPI")
r = read_all(s)
dt = time.time() - t0
check("half a command", r == b"COMMAND READ TIMED OUT\n" and dt < 3, "%r after %.1f s" % (r, dt))
t0 = time.time()
s = conn()
s.sendall(b"zIDSESSION\0zPING\0")
r = read_all(s)
dt = time.time() - t0
check("idle session closed (IdleTimeout)", r == b"1: PONG\0" and dt < 3, "%r after %.1f s" % (r, dt))
t0 = time.time()
s = conn()
s.sendall(b"zINSTREAM\0\0\0\0\x10abc")
r = read_all(s)
dt = time.time() - t0
check("stalled stream closed (ReadTimeout)", r == b"" and 1.5 < dt < 5, "%r after %.1f s" % (r, dt))

s = conn()
try:
    s.sendall(b"zPING" + b"x" * 100000)
except OSError:
    pass
check("endless command line dropped", read_all(s) == b"")
check("still answering", ping() == b"PONG\0")

# More descriptors than a client can use: the extras are closed.
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(16)]
s = conn()
s.sendmsg([b"zFILDES\0\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
r = read_all(s)
for fd in fds:
    os.close(fd)
check("16 descriptors at once", r.startswith(b"fd[") and r.endswith(b": OK\0"), "%r" % r)

# Random garbage on many connections.
rnd = random.Random(1)
for i in range(50):
    s = conn()
    try:
        s.sendall(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))))
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    read_all(s)
check("garbage connections", ping() == b"PONG\0")

# Backpressure: 2 threads held by silent clients, 1 queue place: later
# clients wait (in the queue, then in the kernel backlog) and are all
# answered once the silent ones time out; none is dropped.
held = [conn() for _ in range(2)]
time.sleep(0.2)
results = []


def late(i):
    try:
        results.append(ping())
    except OSError as e:
        results.append(("EXC %s" % e).encode())


t0 = time.time()
ths = [threading.Thread(target=late, args=(i,)) for i in range(30)]
for t in ths:
    t.start()
for t in ths:
    t.join()
dt = time.time() - t0
check("30 queued clients all answered", results.count(b"PONG\0") == 30 and dt > 0.5,
      "%d/30 after %.1f s" % (results.count(b"PONG\0"), dt))
for h in held:
    h.close()

# 300 connections opened at once, each sending PING.
socks = []
for i in range(300):
    try:
        s = conn(timeout=30)
        s.sendall(b"zPING\0")
        socks.append(s)
    except OSError:
        pass
answered = sum(1 for s in socks if read_all(s) == b"PONG\0")
check("300 simultaneous connections", answered == len(socks) == 300, "%d/%d" % (answered, len(socks)))
print("%d failed" % fails)
sys.exit(1 if fails else 0)
