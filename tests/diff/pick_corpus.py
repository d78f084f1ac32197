#!/usr/bin/env python3
"""Pick a bounded, deterministic sample of real files from this machine for the
real-signature differential test, and print it as TSV: source<TAB>relpath
(relpath: where the copy goes inside the corpus) — one line per file.

Selection: the candidates of each group are sorted by path and taken at evenly
spaced positions, so the same machine always yields the same corpus. Symlinks
are skipped (each file is taken once, as a regular file).
"""

import glob
import os
import sys

MAX_SIZE = 4 << 20
MAX_PE_SIZE = 2 << 20  # large DLLs cost the most scan time on both sides


def regular(paths, magic=None, max_size=MAX_SIZE):
    out = []
    for p in paths:
        try:
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            sz = os.path.getsize(p)
            if sz == 0 or sz > max_size:
                continue
            if magic:
                with open(p, "rb") as fh:
                    if fh.read(len(magic)) != magic:
                        continue
            out.append(p)
        except OSError:
            continue
    return sorted(set(out))


def spaced(paths, n):
    if len(paths) <= n:
        return paths
    return [paths[i * len(paths) // n] for i in range(n)]


def walk(root):
    for d, _, files in os.walk(root):
        for f in files:
            yield os.path.join(d, f)


def flat(group, src):
    name = src.strip("/").replace("/", "_")
    return "%s/%s" % (group, name[-150:])


def main():
    groups = []
    elf = regular(glob.glob("/usr/bin/*") + glob.glob("/usr/lib/x86_64-linux-gnu/*"), b"\x7fELF")
    groups.append(("elf", spaced(elf, 300)))
    w64 = regular(glob.glob("/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/*"), b"MZ", MAX_PE_SIZE)
    w32 = regular(glob.glob("/usr/lib/x86_64-linux-gnu/wine/i386-windows/*"), b"MZ", MAX_PE_SIZE)
    mingw = regular(glob.glob("/usr/lib/gcc/*-w64-mingw32/*/*.dll"), b"MZ", MAX_PE_SIZE)
    groups.append(("pe-wine64", spaced(w64, 120)))
    groups.append(("pe-wine32", spaced(w32, 120)))
    groups.append(("pe-mingw", spaced(mingw, 40)))
    docs = regular(walk("/usr/share/doc"), None, 1 << 20)
    groups.append(("doc", spaced(docs, 200)))
    tf = regular(glob.glob("/usr/share/clamav-testfiles/*"), None)
    groups.append(("testfiles", tf))
    for g, files in groups:
        for f in files:
            sys.stdout.write("%s\t%s\n" % (f, flat(g, f)))
    sys.stderr.write("picked: %s\n" % ", ".join("%s %d" % (g, len(f)) for g, f in groups))


if __name__ == "__main__":
    main()
