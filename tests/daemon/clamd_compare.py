#!/usr/bin/python3
"""Send the same clamd-protocol conversations to clamd and to wardd and
compare the replies byte for byte.

usage: clamd_compare.py CLAMD_TARGET WARDD_TARGET TREE
  TARGET: a unix socket path or tcp:PORT (127.0.0.1)
  TREE:   a directory made by the caller (see test_wardd_proto.sh)

Only what cannot be equal is normalised, and each normalisation is listed
here: the VERSION text (wardd names itself and its pattern set), STATS
figures (thread states and timings, memory), fd[N] numbers (each daemon's
own descriptor number), and the order of lines where clamd itself answers
in a non-deterministic order (directory walks, pipelined IDSESSION replies).
"""
import array
import os
import re
import socket
import struct
import sys

CLAMD, WARDD, TREE = sys.argv[1], sys.argv[2], sys.argv[3]
EICAR = open(os.path.join(TREE, "eicar.txt"), "rb").read()


def connect(target, timeout=10):
    if target.startswith("tcp:"):
        s = socket.create_connection(("127.0.0.1", int(target[4:])), timeout=timeout)
    else:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(target)
    return s


def read_all(s):
    out = b""
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out + b"<TIMEOUT>"
        except ConnectionResetError:
            return out + b"<RESET>"
        if not d:
            return out
        out += d


def raw(data):
    def run(target):
        s = connect(target)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        r = read_all(s)
        s.close()
        return r
    return run


def instream(chunks, prefix=b"zINSTREAM\0", term=True):
    def run(target):
        # Without the end marker both daemons wait for more (ReadTimeout):
        # the answer is "<TIMEOUT>" either way, found out in 2 s.
        s = connect(target, 10 if term else 2)
        try:
            s.sendall(prefix)
            for c in chunks:
                s.sendall(struct.pack(">I", len(c)) + c)
            if term:
                s.sendall(struct.pack(">I", 0))
        except OSError:
            pass
        r = read_all(s)
        s.close()
        return r
    return run


def fildes(path, prefix=b"zFILDES\0", unix_only=True):
    def run(target):
        if target.startswith("tcp:"):
            return b"<SKIPPED on tcp>"
        fd = os.open(path, os.O_RDONLY)
        s = connect(target)
        s.sendall(prefix)
        s.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        os.close(fd)
        s.shutdown(socket.SHUT_WR)
        r = read_all(s)
        s.close()
        return r
    return run


def session_fildes(paths):
    """clamdscan -m --fdpass: IDSESSION, one FILDES per file, END."""
    def run(target):
        if target.startswith("tcp:"):
            return b"<SKIPPED on tcp>"
        s = connect(target)
        first = True
        for p in paths:
            fd = os.open(p, os.O_RDONLY)
            msg = (b"zIDSESSION\0" if first else b"") + b"zFILDES\0\0"
            s.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
            os.close(fd)
            first = False
        s.sendall(b"zEND\0")
        r = read_all(s)
        s.close()
        return r
    return run


T = TREE
b = lambda s: s.encode()
CASES = [
    ("ping z", raw(b"zPING\0")),
    ("ping n", raw(b"nPING\n")),
    ("ping old", raw(b"PING\n")),
    ("ping old eof", raw(b"PING")),
    ("ping old crlf", raw(b"PING\r\r\n")),
    ("ping n crlf", raw(b"nPING\r\n")),
    ("ping z cr", raw(b"zPING\r\0")),
    ("ping z unterminated", raw(b"zPING")),
    ("ping trailing space", raw(b"PING \n")),
    ("ping lower", raw(b"ping\n")),
    ("ping twice", raw(b"zPING\0zPING\0")),
    ("ping garbage after", raw(b"zPING\0garbage")),
    ("version z", raw(b"zVERSION\0")),
    ("version n", raw(b"nVERSION\n")),
    ("version old eof", raw(b"VERSION")),
    ("versioncommands z", raw(b"zVERSIONCOMMANDS\0")),
    ("versioncommands old", raw(b"VERSIONCOMMANDS\n")),
    ("unknown z", raw(b"zFOO\0")),
    ("unknown n", raw(b"nFOO\n")),
    ("unknown old", raw(b"FOO\n")),
    ("empty old", raw(b"\n")),
    ("empty z", raw(b"z\0")),
    ("empty crlf", raw(b"\r\n")),
    ("x prefix", raw(b"xPING\n")),
    ("pingx", raw(b"zPINGX\0")),
    ("shutdownx", raw(b"zSHUTDOWNX\0")),
    ("stream old name", raw(b"zSTREAM\0")),
    ("end outside session", raw(b"zEND\0")),
    ("stats old", raw(b"STATS\n")),
    ("stats z", raw(b"zSTATS\0")),
    ("stats n", raw(b"nSTATS\n")),
    ("detstats", raw(b"zDETSTATS\0")),
    ("detstatsclear", raw(b"zDETSTATSCLEAR\0")),
    ("idsession old", raw(b"IDSESSION\n")),
    ("end old", raw(b"END\n")),
    ("allmatchscan old", raw(b("ALLMATCHSCAN %s/eicar.txt\n" % T))),
    ("scan eicar old", raw(b("SCAN %s/eicar.txt\n" % T))),
    ("scan eicar z", raw(b("zSCAN %s/eicar.txt\0" % T))),
    ("scan eicar n", raw(b("nSCAN %s/eicar.txt\n" % T))),
    ("scan eicar z with newline", raw(b("zSCAN %s/eicar.txt\n" % T))),
    ("scan clean", raw(b("zSCAN %s/dir/clean.txt\0" % T))),
    ("scan body sig", raw(b("zSCAN %s/dir/c.txt\0" % T))),
    ("scan missing", raw(b"zSCAN /nonexistent/x\0")),
    ("scan empty path", raw(b"SCAN \n")),
    ("scan no arg", raw(b"SCAN\n")),
    ("scan relative", raw(b"zSCAN relative-name\0")),
    ("scan two spaces", raw(b("SCAN  %s/dir\n" % T))),
    ("scan trailing space", raw(b("SCAN %s/dir \n" % T))),
    ("scan crlf old", raw(b("SCAN %s/dir/clean.txt\r\n" % T))),
    ("scan symlink", raw(b("zSCAN %s/dir/link.txt\0" % T))),
    ("scan fifo", raw(b("zSCAN %s/fifo\0" % T))),
    ("scan devnull", raw(b"zSCAN /dev/null\0")),
    ("scan double slash", raw(b("zSCAN %s/dir//clean.txt\0" % T))),
    ("scan dotdot", raw(b("zSCAN %s/dir/../dir/clean.txt\0" % T))),
    ("scan long name", raw(b"zSCAN /" + b"a" * 300 + b"\0")),
    ("scan 4000", raw(b"zSCAN /" + b"a" * 3992 + b"\0")),
    ("scan clean dir", raw(b("zSCAN %s/cleandir\0" % T))),
    ("scan dir first hit", raw(b("zSCAN %s/one\0" % T))),
    ("contscan dir", raw(b("zCONTSCAN %s/dir\0" % T))),
    ("contscan clean dir", raw(b("zCONTSCAN %s/cleandir\0" % T))),
    ("contscan old", raw(b("CONTSCAN %s/dir\n" % T))),
    ("multiscan dir", raw(b("zMULTISCAN %s/dir\0" % T))),
    ("multiscan old", raw(b("MULTISCAN %s/cleandir\n" % T))),
    ("allmatchscan file", raw(b("zALLMATCHSCAN %s/eicar.txt\0" % T))),
    ("allmatchscan clean", raw(b("zALLMATCHSCAN %s/dir/clean.txt\0" % T))),
    ("allmatchscan one", raw(b("zALLMATCHSCAN %s/one\0" % T))),
    ("instream eicar", instream([EICAR])),
    ("instream eicar split", instream([EICAR[:10], EICAR[10:]])),
    ("instream clean", instream([b"hello world, clean"])),
    ("instream body", instream([b"xx hello-ward-test yy"])),
    ("instream empty", instream([])),
    ("instream n", instream([EICAR], prefix=b"nINSTREAM\n")),
    ("instream old", instream([EICAR], prefix=b"INSTREAM\n")),
    ("instream no end", instream([EICAR], term=False)),
    ("instream huge chunk", instream([], prefix=b"zINSTREAM\0\x7f\xff\xff\xff", term=False)),
    ("instream 1-byte chunks", instream([bytes([c]) for c in EICAR])),
    ("fildes eicar", fildes(os.path.join(T, "eicar.txt"))),
    ("fildes clean", fildes(os.path.join(T, "dir/clean.txt"))),
    ("fildes n", fildes(os.path.join(T, "eicar.txt"), prefix=b"nFILDES\n")),
    ("fildes none", raw(b"zFILDES\0")),
    ("session ping version", raw(b"nIDSESSION\nnPING\nnVERSION\nnEND\n")),
    ("session scan", raw(b("zIDSESSION\0zPING\0zSCAN %s/eicar.txt\0zEND\0" % T))),
    ("session old inside", raw(b"zIDSESSION\0zPING\0PING\n")),
    ("session nested", raw(b"zIDSESSION\0zIDSESSION\0")),
    ("session unknown", raw(b"zIDSESSION\0zFOO\0")),
    ("session reloadx", raw(b"zIDSESSION\0zRELOADX\0")),
    ("session stats", raw(b"zIDSESSION\0zVERSION\0zSTATS\0zEND\0")),
    ("session instream", raw(b"nIDSESSION\nnINSTREAM\n\0\0\0\x03abc\0\0\0\0nEND\n")),
    ("session instream ping", raw(b"zIDSESSION\0zINSTREAM\0\0\0\0\x03abc\0\0\0\0zPING\0zEND\0")),
    ("session empty end", raw(b"zIDSESSION\0zEND\0")),
    ("session after end", raw(b"zIDSESSION\0zPING\0zPING\0zEND\0zPING\0")),
    ("session mixed styles", raw(b"zIDSESSION\0nPING\n")),
    ("session mixed styles 2", raw(b"nIDSESSION\nzPING\0")),
    ("session empty command", raw(b"zIDSESSION\0\0zPING\0")),
    ("session versioncommands", raw(b"zIDSESSION\0zVERSIONCOMMANDS\0zEND\0")),
    ("session contscan", raw(b("zIDSESSION\0zCONTSCAN %s/dir\0zEND\0" % T))),
    ("session fildes x3", session_fildes([os.path.join(T, "eicar.txt"), os.path.join(T, "dir/clean.txt"), os.path.join(T, "dir/c.txt")])),
    ("command too long", raw(b"zPING" + b"x" * 20000)),
]

VERSION_RE = re.compile(rb"(ClamAV|Ward) [^|\0\n]*")
FD_RE = re.compile(rb"fd\[\d+\]")
STATS_THREAD_RE = re.compile(rb"\t\S+ [0-9.]+ [^\n]*\n")
STATS_THREADS_RE = re.compile(rb"THREADS: live \d+  idle \d+ max \d+ idle-timeout \d+")
MEM_RE = re.compile(rb"MEMSTATS: [^\n]*")
SESSION_ID_RE = re.compile(rb"^\d+: ")


def normalise(name, r):
    # A close with unread input is a reset or a plain EOF depending on how
    # much the daemon had read: both mean "closed without a reply".
    r = r.replace(b"<RESET>", b"")
    r = VERSION_RE.sub(b"<VERSION>", r)
    r = FD_RE.sub(b"fd[N]", r)
    r = STATS_THREAD_RE.sub(b"", r)
    r = STATS_THREADS_RE.sub(b"THREADS: ...", r)
    r = MEM_RE.sub(b"MEMSTATS: ...", r)
    if any(k in name for k in ("dir", "session", "multiscan", "contscan")) and b"POOLS" not in r:
        term = b"\0" if b"\0" in r else b"\n"
        parts = [p for p in r.split(term)]
        tail = parts.pop()  # after the last terminator (usually empty)
        r = term.join(sorted(parts)) + term + tail
    return r


def main():
    fails = 0
    for name, fn in CASES:
        if os.environ.get("COMPARE_ONLY") and os.environ["COMPARE_ONLY"] not in name:
            continue
        c = normalise(name, fn(CLAMD))
        w = normalise(name, fn(WARDD))
        if c != w:
            fails += 1
            print("DIFF %-28s clamd=%r" % (name, c[:400]))
            print("     %-28s wardd=%r" % ("", w[:400]))
        elif os.environ.get("VERBOSE"):
            print("same %-28s %r" % (name, c[:200]))
    total = len(CASES)
    print("%d cases, %d differ" % (total, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
