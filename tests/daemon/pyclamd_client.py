#!/usr/bin/python3
"""Drive python3-pyclamd (unchanged) against one daemon and print what it
returns, one line per call, so the caller can diff clamd against wardd.

usage: pyclamd_client.py unix:SOCKET|tcp:PORT TREE
"""
import sys

import pyclamd

target, tree = sys.argv[1], sys.argv[2]
if target.startswith("unix:"):
    cd = pyclamd.ClamdUnixSocket(filename=target[5:], timeout=30)
else:
    cd = pyclamd.ClamdNetworkSocket(host="127.0.0.1", port=int(target[4:]), timeout=30)

eicar = open(tree + "/eicar.txt", "rb").read()


def show(name, value):
    if isinstance(value, dict):
        value = sorted(value.items())
    print("%s: %r" % (name, value))


show("ping", cd.ping())
v = cd.version()
show("version prefix", v.split(" ")[0] in ("ClamAV", "Ward"))
show("scan_file eicar", cd.scan_file(tree + "/eicar.txt"))
show("scan_file clean", cd.scan_file(tree + "/dir/clean.txt"))
show("scan_file missing", cd.scan_file(tree + "/missing"))
show("scan_stream eicar", cd.scan_stream(eicar))
show("scan_stream clean", cd.scan_stream(b"nothing to see here" * 1000))
show("scan_stream body", cd.scan_stream(b"xx hello-ward-test yy"))
show("scan_stream 5 MB", cd.scan_stream(b"A" * (5 << 20) + eicar))
show("contscan_file", cd.contscan_file(tree + "/dir"))
show("multiscan_file", cd.multiscan_file(tree + "/dir"))
show("allmatchscan", cd.allmatchscan(tree + "/eicar.txt"))
stats = cd.stats()
show("stats shape", stats.startswith("POOLS: 1") and stats.rstrip().endswith("END"))
show("reload", cd.reload())
show("ping after reload", cd.ping())
