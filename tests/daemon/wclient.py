#!/usr/bin/python3
"""Tiny clamd-protocol client for the wardd shell tests.

usage: wclient.py TARGET instream FILE      -> prints the reply
       wclient.py TARGET cmd TEXT            -> sends "zTEXT\\0", prints the reply
       wclient.py TARGET metrics PORT        -> prints GET /metrics from 127.0.0.1:PORT
TARGET: a unix socket path or tcp:PORT. Replies are printed without the
trailing NUL; the exit status is 0 when a reply came, 1 otherwise.
"""
import http.client
import socket
import struct
import sys


def connect(target, timeout=30):
    if target.startswith("tcp:"):
        return socket.create_connection(("127.0.0.1", int(target[4:])), timeout=timeout)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(target)
    return s


def read_all(s):
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            return out
        out += d


def instream(target, data, chunk=65536):
    s = connect(target)
    s.sendall(b"zINSTREAM\0")
    for i in range(0, len(data), chunk):
        part = data[i:i + chunk]
        s.sendall(struct.pack(">I", len(part)) + part)
    s.sendall(struct.pack(">I", 0))
    r = read_all(s)
    s.close()
    return r


def command(target, text):
    s = connect(target)
    s.sendall(b"z" + text.encode() + b"\0")
    r = read_all(s)
    s.close()
    return r


def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    c.request("GET", "/metrics")
    return c.getresponse().read()


def main():
    target, what, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    try:
        if what == "instream":
            r = instream(target, open(arg, "rb").read())
        elif what == "cmd":
            r = command(target, arg)
        else:
            r = metrics(arg)
    except OSError as e:
        print("CLIENT-ERROR %s" % e)
        return 1
    sys.stdout.write(r.rstrip(b"\0").decode("utf-8", "replace"))
    sys.stdout.write("\n")
    return 0 if r else 1


if __name__ == "__main__":
    sys.exit(main())
