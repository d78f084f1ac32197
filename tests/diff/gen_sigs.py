#!/usr/bin/env python3
"""Generate signature databases that use every ClamAV syntax feature Ward
claims, and for each signature positive samples (bytes built to match, fillers
random, wildcards filled randomly, alternatives picked randomly) and near-miss
negatives (a static byte changed, a wrong offset, a wrong target type, a count
off by one). Some samples are also packed into zip and tar.gz archives.

Usage: gen_sigs.py OUTDIR [--seed N]
Writes OUTDIR/db/ (gen.hdb gen.hsb gen.mdb gen.msb gen.ndb gen.ldb gen.fp
gen.sfp gen.ign2), OUTDIR/corpus/ and OUTDIR/manifest.tsv
(relpath<TAB>pos|neg<TAB>signature name). The oracle is clamscan, not the
manifest: the manifest only measures how well the generator aims.
"""

import hashlib
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import samplegen as sg  # noqa: E402

LOWER = b"abcdefghijklmnopqrstuvwxyz"
BINFILL = bytes(list(range(0x80, 0x100)) + list(range(0x00, 0x07)) + list(range(0x0E, 0x1A)))


class Gen:
    def __init__(self, out, seed):
        self.rng = random.Random(seed)
        self.out = out
        self.db = {k: [] for k in ("hdb", "hsb", "mdb", "msb", "ndb", "ldb", "fp", "sfp", "ign2")}
        self.manifest = []
        self.nfiles = 0
        self.archive_pool = []  # (name, data, kind, sig) candidates for containers
        os.makedirs(os.path.join(out, "db"), exist_ok=True)
        os.makedirs(os.path.join(out, "corpus"), exist_ok=True)

    # ---- output ----
    def sample(self, group, sig, kind, data, archive=True):
        d = os.path.join(self.out, "corpus", group)
        os.makedirs(d, exist_ok=True)
        self.nfiles += 1
        name = "%s-%s-%05d" % (sig.replace(".", "_"), kind, self.nfiles)
        rel = os.path.join(group, name)
        with open(os.path.join(self.out, "corpus", rel), "wb") as fh:
            fh.write(data)
        self.manifest.append((rel, kind, sig))
        if archive and self.rng.random() < 0.12:
            self.archive_pool.append((name, data, kind, sig))
        return rel

    def write(self):
        for ext, lines in self.db.items():
            with open(os.path.join(self.out, "db", "gen." + ext), "w") as fh:
                fh.write("".join(l + "\n" for l in lines))
        # Containers: one member each (the verdict then tells about that member),
        # alternating zip and tar.gz.
        for i, (name, data, kind, sig) in enumerate(self.archive_pool):
            if i % 2 == 0:
                blob, ext = sg.make_zip([(name, data)]), "zip"
            else:
                blob, ext = sg.make_targz([(name, data)]), "tar.gz"
            rel = os.path.join("archives", "%s.%s" % (name, ext))
            os.makedirs(os.path.join(self.out, "corpus", "archives"), exist_ok=True)
            with open(os.path.join(self.out, "corpus", rel), "wb") as fh:
                fh.write(blob)
            self.manifest.append((rel, kind, sig))
        with open(os.path.join(self.out, "manifest.tsv"), "w") as fh:
            for rel, kind, sig in self.manifest:
                fh.write("%s\t%s\t%s\n" % (rel, kind, sig))

    # ---- random bytes ----
    def rbytes(self, n, text=False):
        if text:
            return bytes(self.rng.choice(LOWER) for _ in range(n))
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def binfill(self, n):
        # Filler for binary files: high bytes and controls only, so a filler never
        # forms a magic number or an accidental copy of a static part, and the
        # controls keep ClamAV from typing the file as (ISO-8859) text.
        return bytes(self.rng.choice(BINFILL) for _ in range(n))

    def textfill(self, n):
        words = []
        size = 0
        while size < n:
            w = self.rbytes(self.rng.randint(2, 8), True)
            words.append(w)
            size += len(w) + 1
        return b" ".join(words)[:n]


# ---------------------------------------------------------------------------
# Body patterns: a list of elements; sig() renders the hex, gen() builds bytes.
# Elements: ("hex", b) ("any", n) ("hi", v) ("lo", v) ("star",) ("gap", n)
# ("gapmax", n) ("gapmin", n) ("range", n, m) ("anch", x, y, byte)
# ("alt", [b...]) ("nalt", [b...]) ("galt", [elements...]) ("cls", "B"|"L"|"W")

class Pattern:
    def __init__(self, elems, text=False, feature=""):
        self.elems = elems
        self.text = text
        self.feature = feature

    def sig(self):
        return "".join(_render(e) for e in self.elems)

    def statics(self):
        return [i for i, e in enumerate(self.elems) if e[0] == "hex"]

    def countables(self):
        return [i for i, e in enumerate(self.elems)
                if e[0] in ("gap", "range", "gapmax", "anch", "alt", "nalt")]

    def gen(self, g, mutate=None):
        """mutate: None, ("byte", elem, pos) or ("count", elem)."""
        return b"".join(_gen(e, g, self.text, mutate, i) for i, e in enumerate(self.elems))


def _render(e):
    k = e[0]
    if k == "hex":
        return e[1].hex()
    if k == "any":
        return "??" * e[1]
    if k == "hi":
        return "%x?" % e[1]
    if k == "lo":
        return "?%x" % e[1]
    if k == "star":
        return "*"
    if k == "gap":
        return "{%d}" % e[1]
    if k == "gapmax":
        return "{-%d}" % e[1]
    if k == "gapmin":
        return "{%d-}" % e[1]
    if k == "range":
        return "{%d-%d}" % (e[1], e[2])
    if k == "anch":
        return "[%d-%d]%02x" % (e[1], e[2], e[3])
    if k == "alt":
        return "(" + "|".join(b.hex() for b in e[1]) + ")"
    if k == "nalt":
        return "!(" + "|".join(b.hex() for b in e[1]) + ")"
    if k == "galt":
        return "(" + "|".join("".join(_render(x) for x in alt) for alt in e[1]) + ")"
    if k == "cls":
        return "(%s)" % e[1]
    raise ValueError(k)


def _fill(g, n, text):
    return g.textfill(n) if text else g.binfill(n)


def _gen(e, g, text, mutate, idx):
    rng = g.rng
    k = e[0]
    mine = mutate is not None and mutate[1] == idx
    if k == "hex":
        b = bytearray(e[1])
        if mine and mutate[0] == "byte":
            p = mutate[2] % len(b)
            pool = LOWER if text else range(256)
            b[p] = rng.choice([c for c in pool if c != b[p]])
        return bytes(b)
    if k == "any":
        return g.rbytes(e[1], text)
    if k == "hi":
        return bytes([(e[1] << 4) | rng.randrange(16)])
    if k == "lo":
        return bytes([(rng.randrange(16) << 4) | e[1]])
    if k == "star":
        return _fill(g, rng.randint(0, 24), text)
    if k == "gap":
        n = e[1] + (1 if mine else 0)
        return _fill(g, n, text)
    if k == "gapmax":
        n = e[1] + 1 if mine else rng.randint(0, e[1])
        return _fill(g, n, text)
    if k == "gapmin":
        return _fill(g, e[1] + rng.randint(0, 12), text)
    if k == "range":
        n = e[2] + 1 if mine else rng.randint(e[1], e[2])
        return _fill(g, n, text)
    if k == "anch":
        n = e[2] + 1 if mine else rng.randint(e[1], e[2])
        return _fill(g, n, text) + bytes([e[3]])
    if k == "alt":
        if mine:
            ln = len(e[1][0])
            while True:
                c = g.rbytes(ln, text)
                if c not in e[1]:
                    return c
        return rng.choice(e[1])
    if k == "nalt":
        if mine:
            return rng.choice(e[1])
        ln = len(e[1][0])
        while True:
            c = g.rbytes(ln, text)
            if c not in e[1]:
                return c
    if k == "galt":
        alt = rng.choice(e[1])
        return b"".join(_gen(x, g, text, None, -1) for x in alt)
    if k == "cls":
        if e[1] == "L":
            return b"\n"
        # ClamAV 1.4's word-boundary class accepts these bytes (probed with clamscan)
        return bytes([rng.choice(b" \n\r\"'-./<=>@_" if e[1] == "B" else b" -.,;")])
    raise ValueError(k)


FEATURES = ["hex", "qq", "hi", "lo", "star", "gap", "gapbig", "gapmax", "gapmin", "range",
            "anch", "alt1", "altm", "nalt1", "naltm", "galt", "galtnest", "clsB", "clsL", "clsW",
            "combo"]
TEXT_FEATURES = ["hex", "qq", "star", "gap", "gapmax", "gapmin", "range", "alt1", "altm",
                 "galt", "clsB", "clsW", "combo"]


def make_pattern(g, feature, text=False):
    rng = g.rng

    def H(lo=4, hi=8):
        return ("hex", g.rbytes(rng.randint(lo, hi), text))

    def byteset(n, ln=1):
        s = set()
        while len(s) < n:
            s.add(g.rbytes(ln, text))
        return sorted(s)

    f = feature
    if f == "hex":
        el = [H(6, 16)]
    elif f == "qq":
        el = [H(), ("any", rng.randint(1, 4)), H()]
    elif f == "hi":
        el = [H(), ("hi", rng.randrange(16)), H()]
    elif f == "lo":
        el = [H(), ("lo", rng.randrange(16)), H()]
    elif f == "star":
        el = [H(), ("star",), H()]
    elif f == "gap":
        el = [H(), ("gap", rng.randint(1, 40)), H()]
    elif f == "gapbig":
        el = [H(), ("gap", rng.randint(130, 200)), H()]
    elif f == "gapmax":
        el = [H(), ("gapmax", rng.randint(2, 20)), H()]
    elif f == "gapmin":
        el = [H(), ("gapmin", rng.randint(1, 20)), H()]
    elif f == "range":
        a = rng.randint(0, 10)
        el = [H(), ("range", a, a + rng.randint(1, 20)), H()]
    elif f == "anch":
        a = rng.randint(1, 5)
        el = [H(), ("anch", a, a + rng.randint(1, 6), g.rbytes(1, text)[0])]
    elif f == "alt1":
        el = [H(), ("alt", byteset(rng.randint(2, 4))), H()]
    elif f == "altm":
        el = [H(), ("alt", byteset(rng.randint(2, 3), rng.randint(2, 4))), H()]
    elif f == "nalt1":
        el = [H(), ("nalt", byteset(rng.randint(1, 3))), H()]
    elif f == "naltm":
        el = [H(), ("nalt", byteset(2, 2)), H()]
    elif f == "galt":
        alts = [[H(1, 3)], [H(1, 1), ("any", 1), H(1, 2)], [H(3, 5)]]
        el = [H(), ("galt", alts), H()]
    elif f == "galtnest":
        inner = ("galt", [[H(1, 2)], [H(2, 3)]])
        alts = [[H(1, 2), inner, H(1, 1)], [H(4, 4)]]
        el = [H(), ("galt", alts), H()]
    elif f in ("clsB", "clsL", "clsW"):
        el = [H(), ("cls", f[-1]), H()]
    elif f == "combo":
        parts = ["qq", "gap", "alt1", "range", "star", "hi", "galt"]
        if text:
            parts = ["qq", "gap", "alt1", "range", "star"]
        el = [H()]
        for p in rng.sample(parts, 3):
            el += make_pattern(g, p, text).elems[1:-1] + [H()]
    else:
        raise ValueError(f)
    return Pattern(el, text, f)


# ---------------------------------------------------------------------------
# Carriers: files of a target type with bytes placed at a chosen offset.

def pe_carrier(g, nsec=3, ep_off=None, sizes=None):
    rng = g.rng
    sizes = sizes or [rng.randint(0x300, 0x700) for _ in range(nsec)]
    secs = [g.binfill(s) for s in sizes]
    if ep_off is None:
        ep_off = rng.randint(0x60, 0x120)
    return sg.make_pe(secs, 0, ep_off)


def place(data, off, m):
    b = bytearray(data)
    if off < 0 or off + len(m) > len(b):
        return None
    b[off:off + len(m)] = m
    return bytes(b)


def carrier_raw(g, m, off_spec, text, wrong=False):
    """A plain binary (or text) file with m at the offset off_spec asks for."""
    rng = g.rng
    kind = off_spec[0]
    fill = g.textfill if text else g.binfill
    head = b"" if text else b"\x00\x01\x02\x03"
    if kind == "any":
        return head + fill(rng.randint(8, 300)) + (b" " if text else b"") + m + \
            (b" " if text else b"") + fill(rng.randint(8, 300))
    if kind == "abs":
        n = off_spec[1] + (1 if wrong else 0)
        pre = (head + fill(n))[:n]
        return pre + m + fill(rng.randint(4, 100))
    if kind == "absshift":
        n, s = off_spec[1], off_spec[2]
        n += s + 1 if wrong else rng.randint(0, s)
        pre = (head + fill(n))[:n]
        return pre + m + fill(rng.randint(4, 100))
    if kind == "eof":
        n = off_spec[1]
        tail = n - len(m) - (1 if wrong else 0)
        if tail < 0:
            return None
        return head + fill(rng.randint(50, 200)) + m + fill(tail)
    raise ValueError(kind)


def carrier_pe(g, m, off_spec, wrong=False):
    rng = g.rng
    pe = pe_carrier(g)
    kind = off_spec[0]
    d = 1 if wrong else 0
    if kind == "any":
        s = rng.randrange(3)
        off = pe.sect_offsets[s] + rng.randint(0, 0x200)
    elif kind == "abs":
        off = off_spec[1] + d
    elif kind == "eof":
        off = len(pe.data) - off_spec[1] + d
    elif kind == "ep+":
        off = pe.ep + off_spec[1] + d
    elif kind == "ep-":
        off = pe.ep - off_spec[1] + d
    elif kind == "sect":
        off = pe.sect_offsets[off_spec[1]] + off_spec[2] + d
    elif kind == "sectall":
        x = off_spec[1]
        if wrong:
            x = (x + 1) % 3
        off = pe.sect_offsets[x] + rng.randint(0, 0x100)
    elif kind == "last":
        off = pe.sect_offsets[2] + off_spec[1] + d
    else:
        raise ValueError(kind)
    return place(pe.data, off, m)


def carrier_elf(g, m, off_spec, wrong=False):
    rng = g.rng
    ep_off = rng.randint(0x40, 0x100)
    body = g.binfill(rng.randint(0x300, 0x600))
    data, ep = sg.make_elf(body, ep_off)
    d = 1 if wrong else 0
    kind = off_spec[0]
    if kind == "any":
        off = rng.randint(0x80, 0x200)
    elif kind == "abs":
        off = off_spec[1] + d
    elif kind == "ep+":
        off = ep + off_spec[1] + d
    else:
        raise ValueError(kind)
    return place(data, off, m)


def render_offset(o):
    k = o[0]
    if k == "any":
        return "*"
    if k == "abs":
        return "%d" % o[1]
    if k == "absshift":
        return "%d,%d" % (o[1], o[2])
    if k == "eof":
        return "EOF-%d" % o[1]
    if k == "ep+":
        return "EP+%d" % o[1]
    if k == "ep-":
        return "EP-%d" % o[1]
    if k == "sect":
        return "S%d+%d" % (o[1], o[2])
    if k == "sectall":
        return "SE%d" % o[1]
    if k == "last":
        return "SL+%d" % o[1]
    raise ValueError(k)


def pick_offset(g, target):
    rng = g.rng
    choices = {
        0: ["any", "any", "abs", "absshift", "eof"],
        1: ["any", "abs", "eof", "ep+", "ep-", "sect", "sectall", "last"],
        6: ["any", "abs", "ep+"],
        7: ["any", "any", "abs", "eof"],
    }[target]
    k = rng.choice(choices)
    if k == "any":
        return ("any",)
    if k == "abs":
        return ("abs", rng.randint(0x400, 0x500) if target == 1 else rng.randint(0x80, 0x100)
                if target == 6 else rng.randint(0, 300))
    if k == "absshift":
        return ("absshift", rng.randint(0, 200), rng.randint(1, 40))
    if k == "eof":
        return ("eof", rng.randint(120, 260))
    if k == "ep+":
        return ("ep+", rng.randint(0, 40))
    if k == "ep-":
        return ("ep-", rng.randint(1, 0x50))
    if k == "sect":
        return ("sect", rng.randrange(3), rng.randint(0, 0x80))
    if k == "sectall":
        return ("sectall", rng.randrange(3))
    if k == "last":
        return ("last", rng.randint(0, 0x80))
    raise ValueError(k)


def build_carrier(g, target, m, off, wrong=False):
    if m is None:
        return None
    if target == 1:
        return carrier_pe(g, m, off, wrong)
    if target == 6:
        return carrier_elf(g, m, off, wrong)
    return carrier_raw(g, m, off, target == 7, wrong)


# ---------------------------------------------------------------------------
# .ndb

def gen_ndb(g, count):
    rng = g.rng
    n = 0
    targets = [0] * 10 + [1] * 6 + [6] * 3 + [7] * 4
    while n < count:
        target = rng.choice(targets)
        text = target == 7
        feature = FEATURES[n % len(FEATURES)] if not text else rng.choice(TEXT_FEATURES)
        pat = make_pattern(g, feature, text)
        off = pick_offset(g, target)
        if off[0] in ("eof",) and any(e[0] in ("star", "gapmin", "gapbig") for e in pat.elems):
            continue
        if off[0] == "eof" and feature == "gapbig":
            continue
        name = "Gen.Ndb.T%d.%s.%s.%d" % (target, feature, off[0], n)
        g.db["ndb"].append("%s:%d:%s:%s" % (name, target, render_offset(off), pat.sig()))
        group = "ndb"
        for _ in range(3):
            data = build_carrier(g, target, pat.gen(g), off)
            if data is not None:
                g.sample(group, name, "pos", data)
        # near misses: one static byte changed
        for _ in range(2):
            st = pat.statics()
            i = rng.choice(st)
            mut = ("byte", i, rng.randrange(len(pat.elems[i][1])))
            data = build_carrier(g, target, pat.gen(g, mut), off)
            if data is not None:
                g.sample(group, name, "neg", data)
        cnt = pat.countables()
        if cnt:
            mut = ("count", rng.choice(cnt))
            data = build_carrier(g, target, pat.gen(g, mut), off)
            if data is not None:
                g.sample(group, name, "neg", data)
        if off[0] not in ("any", "sectall") or (off[0] == "sectall"):
            data = build_carrier(g, target, pat.gen(g), off, wrong=True)
            if data is not None and off[0] != "any":
                g.sample(group, name, "neg", data)
        # wrong target type: the same bytes in a file of another type
        if target in (1, 6):
            data = carrier_raw(g, pat.gen(g), ("any",), False)
            g.sample(group, name, "neg", data)
        elif target == 7:
            m = pat.gen(g)
            # clamscan types some of these as text (docs/compat.md D3): own folder
            g.sample("ndb-t7-binary", name, "neg",
                     b"\x00\x01\x02\x03" + g.binfill(60) + m + g.binfill(60), archive=False)
        n += 1


# ---------------------------------------------------------------------------
# .hdb .hsb .mdb .msb

def gen_hashes(g, count):
    rng = g.rng
    for i in range(count):
        text = i % 4 == 3
        data = (g.textfill(rng.randint(20, 3000)) if text
                else b"\x00\x01\x02\x03" + g.binfill(rng.randint(1, 3000)))
        kind = i % 5
        name = "Gen.Hash.%s.%d" % (["md5", "sha1", "sha256", "md5star", "sha256star"][kind], i)
        size = "%d" % len(data)
        if kind == 0:
            g.db["hdb"].append("%s:%s:%s" % (hashlib.md5(data).hexdigest(), size, name))
        elif kind == 1:
            g.db["hsb"].append("%s:%s:%s" % (hashlib.sha1(data).hexdigest(), size, name))
        elif kind == 2:
            g.db["hsb"].append("%s:%s:%s" % (hashlib.sha256(data).hexdigest(), size, name))
        elif kind == 3:
            g.db["hdb"].append("%s:*:%s:73" % (hashlib.md5(data).hexdigest(), name))
        else:
            g.db["hsb"].append("%s:*:%s:73" % (hashlib.sha256(data).hexdigest(), name))
        g.sample("hash", name, "pos", data)
        b = bytearray(data)
        p = rng.randrange(len(b))
        b[p] ^= 0x01
        g.sample("hash", name, "neg", bytes(b))
        # one byte appended: a different file. (For a text file ending in NUL,
        # clamscan also hashes the normalised text, which drops the NUL: kept
        # apart in its own folder, see docs/compat.md D2.)
        g.sample("hash-nul" if text else "hash", name, "neg", data + b"\x00", archive=not text)
        # a signature with the right hash and a size off by one never matches
        if kind in (0, 1, 2):
            wname = name + ".wrongsize"
            h = {0: hashlib.md5, 1: hashlib.sha1, 2: hashlib.sha256}[kind](data).hexdigest()
            g.db["hdb" if kind == 0 else "hsb"].append("%s:%d:%s" % (h, len(data) + 1, wname))
            g.sample("hash", wname, "neg", data)


def gen_sections(g, count):
    rng = g.rng
    for i in range(count):
        pe = pe_carrier(g)
        s = rng.randrange(3)
        o, sz = pe.sect_offsets[s], pe.sect_sizes[s]
        sect = pe.data[o:o + sz]
        kind = i % 4
        name = "Gen.Sect.%s.%d" % (["md5", "md5star", "sha1", "sha256"][kind], i)
        if kind == 0:
            g.db["mdb"].append("%d:%s:%s" % (sz, hashlib.md5(sect).hexdigest(), name))
        elif kind == 1:
            g.db["mdb"].append("*:%s:%s:73" % (hashlib.md5(sect).hexdigest(), name))
        elif kind == 2:
            g.db["msb"].append("%d:%s:%s" % (sz, hashlib.sha1(sect).hexdigest(), name))
        else:
            g.db["msb"].append("%d:%s:%s" % (sz, hashlib.sha256(sect).hexdigest(), name))
        g.sample("sect", name, "pos", pe.data)
        # the same section in a different PE (other sections differ) still matches
        pe2 = pe_carrier(g)
        o2 = pe2.sect_offsets[0]
        if pe2.sect_sizes[0] == sz:
            g.sample("sect", name, "pos", place(pe2.data, o2, sect))
        b = bytearray(pe.data)
        b[o + rng.randrange(sz)] ^= 0x80
        g.sample("sect", name, "neg", bytes(b))
        # the section bytes in a non-PE file
        g.sample("sect", name, "neg", b"\x00\x01" + g.binfill(100) + sect)
        if kind == 0:
            wname = name + ".wrongsize"
            g.db["mdb"].append("%d:%s:%s" % (sz + 1, hashlib.md5(sect).hexdigest(), wname))
            g.sample("sect", wname, "neg", pe.data)


# ---------------------------------------------------------------------------
# .ldb

def ascii_word(g, lo=5, hi=9):
    return g.rbytes(g.rng.randint(lo, hi), True)


def blob_with(g, parts, size_hint=600):
    """A binary file holding each part (bytes) once, in order, separated by
    random filler."""
    rng = g.rng
    out = [b"\x00\x01\x02\x03", g.binfill(rng.randint(10, 80))]
    for p in parts:
        out.append(p)
        out.append(g.binfill(rng.randint(5, 80)))
    return b"".join(out)


def gen_ldb_logic(g, count):
    """Logical expressions and counting operators over plain hex subsigs."""
    rng = g.rng
    kinds = ["and", "or", "paren1", "paren2", "eq", "gt", "lt", "eqxy", "gtxy", "ltxy", "neg0"]
    for i in range(count):
        k = kinds[i % len(kinds)]
        subs = [g.rbytes(rng.randint(4, 8)) for _ in range(4)]
        S = lambda *ix: [subs[j] for j in ix]  # noqa: E731
        pos, neg = [], []
        if k == "and":
            logic, ns = "0&1&2", 3
            pos = [S(0, 1, 2), S(2, 1, 0)]
            neg = [S(0, 1), S(1, 2)]
        elif k == "or":
            logic, ns = "0|1|2", 3
            pos = [S(0), S(1), S(2)]
            neg = [[]]
        elif k == "paren1":
            logic, ns = "(0&1)|2", 3
            pos = [S(0, 1), S(2)]
            neg = [S(0), S(1)]
        elif k == "paren2":
            logic, ns = "0&(1|2)&3", 4
            pos = [S(0, 1, 3), S(0, 2, 3)]
            neg = [S(0, 3), S(1, 2, 3)]
        elif k == "eq":
            x = rng.randint(2, 3)
            logic, ns = "0&1=%d" % x, 2
            pos = [S(0) + S(1) * x]
            neg = [S(0) + S(1) * (x + 1), S(0) + S(1) * (x - 1)]
        elif k == "gt":
            x = rng.randint(1, 3)
            logic, ns = "0&1>%d" % x, 2
            pos = [S(0) + S(1) * (x + 1), S(0) + S(1) * (x + 2)]
            neg = [S(0) + S(1) * x]
        elif k == "lt":
            x = rng.randint(2, 4)
            logic, ns = "0&1<%d" % x, 2
            pos = [S(0) + S(1) * (x - 1)]
            neg = [S(0) + S(1) * x, S(0) + S(1) * (x + 1)]
        elif k == "eqxy":
            logic, ns = "3&(0|1|2)=3,2", 4
            pos = [S(3, 0, 0, 1), S(3, 0, 1, 2)]
            neg = [S(3, 0, 0, 0), S(3, 0, 1, 2, 2)]
        elif k == "gtxy":
            logic, ns = "3&(0|1|2)>2,2", 4
            pos = [S(3, 0, 0, 1), S(3, 0, 1, 2, 2)]
            neg = [S(3, 0, 0, 0), S(3, 0, 1)]
        elif k == "ltxy":
            logic, ns = "3&(0|1|2)<4,2", 4
            pos = [S(3, 0, 1), S(3, 0, 1, 2)]
            neg = [S(3, 0, 0), S(3, 0, 1, 2, 2)]
        else:  # neg0: A=0 is negation
            logic, ns = "0&1=0", 2
            pos = [S(0)]
            neg = [S(0, 1)]
        name = "Gen.Ldb.logic.%s.%d" % (k, i)
        g.db["ldb"].append("%s;Target:0;%s;%s" % (name, logic, ";".join(s.hex() for s in subs[:ns])))
        for parts in pos:
            g.sample("ldb", name, "pos", blob_with(g, parts))
        for parts in neg:
            g.sample("ldb", name, "neg", blob_with(g, parts))


def gen_ldb_tdb(g, count):
    """Target description blocks: Target, FileSize, EntryPoint, NumberOfSections, Engine."""
    rng = g.rng
    kinds = ["filesize", "ep", "nsect", "engine", "target1", "target6", "engine_old"]
    for i in range(count):
        k = kinds[i % len(kinds)]
        a, b = g.rbytes(6), g.rbytes(6)
        sub = "%s;%s" % (a.hex(), b.hex())
        name = "Gen.Ldb.tdb.%s.%d" % (k, i)
        if k == "filesize":
            data = blob_with(g, [a, b])
            lo, hi = len(data) - rng.randint(0, 20), len(data) + rng.randint(0, 20)
            g.db["ldb"].append("%s;Engine:51-255,Target:0,FileSize:%d-%d;0&1;%s" % (name, lo, hi, sub))
            g.sample("ldb", name, "pos", data)
            g.sample("ldb", name, "neg", data + g.binfill(hi - len(data) + 1))
            d2 = blob_with(g, [a, b])
            if len(d2) < lo:
                g.sample("ldb", name, "neg", d2)
        elif k == "ep":
            ep = rng.randint(0x80, 0x100)
            span = rng.randint(0, 8)
            g.db["ldb"].append("%s;Engine:51-255,Target:1,EntryPoint:%d-%d;0&1;%s" % (
                name, 0x400 + ep - span, 0x400 + ep + span, sub))
            for ep_off, kind in ((ep, "pos"), (ep + span + 1, "neg"), (ep - span - 1, "neg")):
                pe = pe_carrier(g, ep_off=ep_off)
                d = place(pe.data, pe.sect_offsets[1] + 8, a + b"\x90" * 4 + b)
                g.sample("ldb", name, kind, d)
        elif k == "nsect":
            lo = rng.randint(2, 3)
            g.db["ldb"].append("%s;Engine:51-255,Target:1,NumberOfSections:%d-%d;0&1;%s" % (name, lo, lo + 1, sub))
            for ns, kind in ((lo, "pos"), (lo + 1, "pos"), (lo - 1, "neg"), (lo + 2, "neg")):
                pe = pe_carrier(g, nsec=ns)
                d = place(pe.data, pe.sect_offsets[0] + 0x150, a + b"\x90" * 4 + b)
                g.sample("ldb", name, kind, d)
        elif k == "engine":
            g.db["ldb"].append("%s;Engine:51-255,Target:0;0&1;%s" % (name, sub))
            g.sample("ldb", name, "pos", blob_with(g, [a, b]))
            g.sample("ldb", name, "neg", blob_with(g, [a]))
        elif k == "engine_old":
            # a signature for engines newer than any release: never loaded
            g.db["ldb"].append("%s;Engine:250-255,Target:0;0&1;%s" % (name, sub))
            g.sample("ldb", name, "neg", blob_with(g, [a, b]))
        elif k == "target1":
            g.db["ldb"].append("%s;Target:1;0&1;%s" % (name, sub))
            pe = pe_carrier(g)
            g.sample("ldb", name, "pos", place(pe.data, pe.sect_offsets[2] + 16, a + b"\xcc" * 3 + b))
            g.sample("ldb", name, "neg", blob_with(g, [a, b]))
        else:
            g.db["ldb"].append("%s;Target:6;0&1;%s" % (name, sub))
            data, _ = sg.make_elf(g.binfill(40) + a + g.binfill(20) + b + g.binfill(300), 0)
            g.sample("ldb", name, "pos", data)
            g.sample("ldb", name, "neg", blob_with(g, [a, b]))


def gen_ldb_offsets(g, count):
    rng = g.rng
    kinds = ["abs", "absshift", "eof", "ep", "sect", "last", "sectall"]
    for i in range(count):
        k = kinds[i % len(kinds)]
        a, b = g.rbytes(5), g.rbytes(6)
        name = "Gen.Ldb.off.%s.%d" % (k, i)
        if k in ("abs", "absshift", "eof"):
            off = {"abs": ("abs", rng.randint(0, 200)),
                   "absshift": ("absshift", rng.randint(0, 200), rng.randint(1, 30)),
                   "eof": ("eof", rng.randint(40, 120))}[k]
            g.db["ldb"].append("%s;Target:0;0&1;%s:%s;%s" % (name, render_offset(off), b.hex(), a.hex()))
            for wrong, kind in ((False, "pos"), (False, "pos"), (True, "neg")):
                d = carrier_raw(g, b, off, False, wrong)
                if d is not None:
                    # the anchor subsig goes where it cannot move the offset tested
                    d = d[:4] + a + d[4:] if off[0] == "eof" else d + a
                    g.sample("ldb", name, kind, d)
        else:
            off = {"ep": ("ep+", rng.randint(0, 30)), "sect": ("sect", rng.randrange(3), rng.randint(0, 60)),
                   "last": ("last", rng.randint(0, 60)), "sectall": ("sectall", rng.randrange(3))}[k]
            g.db["ldb"].append("%s;Target:1;0&1;%s:%s;%s" % (name, render_offset(off), b.hex(), a.hex()))
            for wrong, kind in ((False, "pos"), (False, "pos"), (True, "neg")):
                d = carrier_pe(g, b, off, wrong)
                if d is not None:
                    d = d + a  # overlay: after the last section
                    g.sample("ldb", name, kind, d)


def case_mix(g, w):
    return bytes(c ^ 0x20 if g.rng.random() < 0.5 and 0x61 <= c <= 0x7a else c for c in w)


def wide(w):
    return b"".join(bytes([c, 0]) for c in w)


def gen_ldb_modifiers(g, count):
    rng = g.rng
    kinds = ["i", "w", "a", "wa", "f", "fi", "iw", "fw"]
    for i in range(count):
        k = kinds[i % len(kinds)]
        anchor = g.rbytes(6)
        w = ascii_word(g)
        name = "Gen.Ldb.mod.%s.%d" % (k, i)
        g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;%s::%s" % (name, anchor.hex(), w.hex(), k))
        delim = lambda x: b" " + x + b"."  # noqa: E731
        pos, neg = [], []
        if k == "i":
            pos = [case_mix(g, w), w.upper()]
            neg = [w[:-1] + bytes([(w[-1] - 0x61 + 1) % 26 + 0x61])]
        elif k == "w":
            pos = [wide(w)]
            neg = [w]
        elif k == "a":
            pos = [w]
            neg = [wide(w)]
        elif k == "wa":
            pos = [w, wide(w)]
            neg = [w[1:]]
        elif k == "f":
            pos = [delim(w)]
            neg = [b"x" + w + b"y", w.upper()]
        elif k == "fi":
            pos = [delim(case_mix(g, w))]
            neg = [b"q" + case_mix(g, w) + b"z"]
        elif k == "iw":
            pos = [wide(case_mix(g, w))]
            neg = [case_mix(g, w)]
        else:  # fw
            pos = [b"\x20\x00" + wide(w) + b"\x2e\x00"]
            neg = [b"a\x00" + wide(w) + b"b\x00"]
        for p in pos:
            g.sample("ldb", name, "pos", blob_with(g, [anchor, delim(p) if "f" not in k else p]))
        for p in neg:
            g.sample("ldb", name, "neg", blob_with(g, [anchor, delim(p) if "f" not in k else p]))


def gen_ldb_pcre(g, count):
    rng = g.rng
    kinds = ["plain", "i", "s", "m", "g", "r", "e", "abs", "nos", "noi"]
    for i in range(count):
        k = kinds[i % len(kinds)]
        trig = g.rbytes(6)
        w1, w2 = ascii_word(g, 4, 6), ascii_word(g, 4, 6)
        num = str(rng.randint(10, 99999)).encode()
        name = "Gen.Ldb.pcre.%s.%d" % (k, i)
        pos, neg = [], []
        if k == "plain":
            sub = "0/%s\\s\\d+\\s%s/" % (w1.decode(), w2.decode())
            pos = [[trig, w1 + b" " + num + b" " + w2]]
            neg = [[trig, w1 + b" x" + num + b" " + w2], [w1 + b" " + num + b" " + w2]]
        elif k in ("i", "noi"):
            sub = "0/%s[0-9]+%s/%s" % (w1.decode(), w2.decode(), "i" if k == "i" else "")
            (pos if k == "i" else neg).append([trig, w1.upper() + num + case_mix(g, w2)])
            pos.append([trig, w1 + num + w2])
        elif k in ("s", "nos"):
            sub = "0/%s.{1,40}%s/%s" % (w1.decode(), w2.decode(), "s" if k == "s" else "")
            (pos if k == "s" else neg).append([trig, w1 + b"ab\ncd" + w2])
            pos.append([trig, w1 + b"abcd" + w2])
        elif k == "m":
            sub = "0/^%s[0-9]+$/m" % w1.decode()
            pos = [[trig, b"\n" + w1 + num + b"\n"]]
            neg = [[trig, b"\n" + w1 + num + b"x\n"]]
        elif k == "g":
            sub = "0/%s[0-9]{2,5}/g" % w1.decode()
            pos = [[trig, w1 + num[:2] + b"z", w1 + num[:3] + b"z"]]
            neg = [[trig, w1 + b"1z"]]
        elif k == "r":
            o = rng.randint(40, 80)
            g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;%d:0/%s[0-9]+/r" % (
                name, trig.hex(), o, w1.decode()))
            d = b"\x00\x01\x02\x03" + trig + g.binfill(o - 10)
            g.sample("ldb", name, "pos", d + g.binfill(rng.randint(2, 30)) + w1 + num + g.binfill(20))
            g.sample("ldb", name, "neg", b"\x00\x01\x02\x03" + w1 + num + g.binfill(o) + trig + g.binfill(20))
            continue
        elif k == "e":
            o, s = rng.randint(40, 80), rng.randint(20, 40)
            g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;%d,%d:0/%s[0-9]+/e" % (
                name, trig.hex(), o, s, w1.decode()))
            head = b"\x00\x01\x02\x03" + trig + g.binfill(o - 10)
            g.sample("ldb", name, "pos", head + g.binfill(5) + w1 + b"42" + g.binfill(60))
            g.sample("ldb", name, "neg", head + g.binfill(s + 5) + w1 + b"42" + g.binfill(60))
            continue
        else:  # abs: anchored at exactly the offset
            o = rng.randint(40, 120)
            g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;%d:0/%s[0-9]+/" % (
                name, trig.hex(), o, w1.decode()))
            head = b"\x00\x01\x02\x03" + trig + g.binfill(o - 10)
            g.sample("ldb", name, "pos", head + w1 + num + g.binfill(40))
            g.sample("ldb", name, "neg", head + b"\x99" + w1 + num + g.binfill(40))
            continue
        g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;%s" % (name, trig.hex(), sub))
        for parts in pos:
            g.sample("ldb", name, "pos", blob_with(g, parts))
        for parts in neg:
            g.sample("ldb", name, "neg", blob_with(g, parts))


def gen_ldb_bytecmp(g, count):
    rng = g.rng
    fmts = [("ib", 1, ">B"), ("ib", 2, ">H"), ("il", 2, "<H"), ("ib", 4, ">I"), ("il", 4, "<I"),
            ("il", 8, "<Q"), ("hb", 4, None), ("hl", 4, None), ("db", 5, None), ("hbe", 4, None),
            ("ab", 4, None)]
    for i in range(count):
        opt, nb, packfmt = fmts[i % len(fmts)]
        trig = g.rbytes(6)
        skip = rng.randint(0, 8)
        limit = rng.randint(10, 200) if nb == 1 else rng.randint(100, 5000)
        op = rng.choice([">", "<", "=", "range"])
        if op == "range":
            cmp_s = ">%d,<%d" % (limit, limit * 2)
            good, bad = limit + 1, limit * 2 + 1
        elif op == ">":
            cmp_s, good, bad = ">%d" % limit, limit + 1, limit
        elif op == "<":
            cmp_s, good, bad = "<%d" % limit, limit - 1, limit
        else:
            cmp_s, good, bad = "=%d" % limit, limit, limit + 1
        name = "Gen.Ldb.bcmp.%s%d.%d" % (opt, nb, i)
        o = len(trig) + skip
        g.db["ldb"].append("%s;Engine:81-255,Target:0;0&1;%s;0(>>%d#%s%d#%s)" % (
            name, trig.hex(), o, opt, nb, cmp_s))

        def enc(v):
            if packfmt:
                return struct.pack(packfmt, v)
            if opt[0] == "h":
                s = ("%0*x" % (nb, v)).encode()[-nb:]
                if opt[1] == "l":
                    # little-endian hex: byte pairs reversed
                    pairs = [s[j:j + 2] for j in range(0, len(s), 2)]
                    s = b"".join(reversed(pairs))
                return s
            return ("%0*d" % (nb, v)).encode()[-nb:]

        for v, kind in ((good, "pos"), (bad, "neg")):
            d = b"\x00\x01\x02\x03" + g.binfill(20) + trig + g.binfill(skip) + enc(v) + g.binfill(30)
            g.sample("ldb", name, kind, d)


# ---------------------------------------------------------------------------
# .fp .sfp .ign2

def gen_allow(g):
    rng = g.rng
    m = g.rbytes(10)
    name = "Gen.Allow.body"
    g.db["ndb"].append("%s:0:*:%s" % (name, m.hex()))
    datas = [carrier_raw(g, m, ("any",), False) for _ in range(5)]
    g.db["fp"].append("%s:%d:Allowed.md5" % (hashlib.md5(datas[0]).hexdigest(), len(datas[0])))
    g.db["sfp"].append("%s:%d:Allowed.sha256" % (hashlib.sha256(datas[1]).hexdigest(), len(datas[1])))
    g.db["fp"].append("%s:*:Allowed.md5star:73" % hashlib.md5(datas[2]).hexdigest())
    g.sample("allow", name, "neg", datas[0], archive=False)
    g.sample("allow", name, "neg", datas[1], archive=False)
    g.sample("allow", name, "neg", datas[2], archive=False)
    g.sample("allow", name, "pos", datas[3], archive=False)
    # a zip whose md5 is allow-listed is clean as a whole; the same member in
    # another zip is still detected. The allow-listed zip's member appears
    # nowhere else: clamscan caches the member of an allow-listed archive as
    # clean, so a later copy of it would be reported clean (order-dependent).
    z1 = sg.make_zip([("member.bin", datas[4])])
    z2 = sg.make_zip([("member2.bin", datas[3])])
    g.db["fp"].append("%s:%d:Allowed.zip" % (hashlib.md5(z1).hexdigest(), len(z1)))
    g.sample("allow", name, "neg", z1, archive=False)
    g.sample("allow", name, "pos", z2, archive=False)
    # a hash signature allow-listed by the same file's md5
    h = carrier_raw(g, g.rbytes(8), ("any",), False)
    g.db["hdb"].append("%s:%d:Gen.Allow.hash" % (hashlib.md5(h).hexdigest(), len(h)))
    g.db["fp"].append("%s:%d:Allowed.hash" % (hashlib.md5(h).hexdigest(), len(h)))
    g.sample("allow", "Gen.Allow.hash", "neg", h, archive=False)
    # .ign2: the ignored signature never reports; its neighbour does
    for j in range(3):
        ign = "Gen.Ign.body.%d" % j
        keep = "Gen.Ign.kept.%d" % j
        a, b = g.rbytes(8), g.rbytes(8)
        g.db["ndb"].append("%s:0:*:%s" % (ign, a.hex()))
        g.db["ndb"].append("%s:0:*:%s" % (keep, b.hex()))
        g.db["ign2"].append(ign)
        g.sample("ignore", ign, "neg", carrier_raw(g, a, ("any",), False))
        g.sample("ignore", keep, "pos", carrier_raw(g, b, ("any",), False))
    lname = "Gen.Ign.ldb"
    a = g.rbytes(8)
    g.db["ldb"].append("%s;Target:0;0;%s" % (lname, a.hex()))
    g.db["ign2"].append(lname)
    g.sample("ignore", lname, "neg", carrier_raw(g, a, ("any",), False))
    _ = rng


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    out = sys.argv[1]
    seed = 20250401
    if len(sys.argv) > 3 and sys.argv[2] == "--seed":
        seed = int(sys.argv[3])
    g = Gen(out, seed)
    gen_ndb(g, 220)
    gen_hashes(g, 40)
    gen_sections(g, 16)
    gen_ldb_logic(g, 33)
    gen_ldb_tdb(g, 21)
    gen_ldb_offsets(g, 21)
    gen_ldb_modifiers(g, 24)
    gen_ldb_pcre(g, 30)
    gen_ldb_bytecmp(g, 22)
    gen_allow(g)
    g.write()
    nsig = sum(len(v) for v in g.db.values())
    print("generated %d signature lines (%s), %d samples" % (
        nsig, ", ".join("%s %d" % (k, len(v)) for k, v in g.db.items()), len(g.manifest)))


if __name__ == "__main__":
    main()
