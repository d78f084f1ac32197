#!/usr/bin/env python3
"""Build files that should match a deterministic subset of the REAL signature
sets (rfxn.ndb, daily.ndb, main.ldb), plus one near miss per signature (one
static byte changed).

Usage: gen_realsamples.py SIGDIR OUTDIR MANIFEST PREFIX
SIGDIR holds the gunzipped sets. Writes OUTDIR/<set>/... and MANIFEST
(PREFIX/<set>/file<TAB>pos|neg<TAB>name, PREFIX being OUTDIR relative to the
corpus root). Signatures the generator cannot satisfy
(targets other than 0/1/6/7, PCRE, byte compare, macros, TDB keys other than
Engine/Target/FileSize/NumberOfSections/EntryPoint) are skipped and counted.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_sigs as gs  # noqa: E402
import samplegen as sg  # noqa: E402


class Unsupported(Exception):
    pass


# ---- hex pattern -> gen_sigs element list ----

def parse_hex(s):
    elems, i = _parse_seq(s, 0, top=True)
    if i != len(s):
        raise Unsupported("trailing " + s[i:i + 10])
    return elems


def _parse_seq(s, i, top=False):
    el = []
    while i < len(s):
        c = s[i]
        if c in "|)":
            if top:
                raise Unsupported("unbalanced")
            return el, i
        if c == "*":
            el.append(("star",))
            i += 1
        elif c == "{":
            j = s.index("}", i)
            body = s[i + 1:j]
            if body.startswith("-"):
                el.append(("gapmax", int(body[1:])))
            elif body.endswith("-"):
                el.append(("gapmin", int(body[:-1])))
            elif "-" in body:
                a, b = body.split("-")
                el.append(("range", int(a), int(b)))
            else:
                el.append(("gap", int(body)))
            i = j + 1
        elif c == "[":
            j = s.index("]", i)
            a, b = s[i + 1:j].split("-")
            el.append(("range", int(a), int(b)))
            i = j + 1
        elif c == "!" or c == "(":
            neg = c == "!"
            if neg:
                i += 1
            if s[i:i + 3] in ("(B)", "(L)", "(W)"):
                el.append(("cls", s[i + 1]))
                i += 3
                continue
            i += 1
            alts = []
            while True:
                sub, i = _parse_seq(s, i)
                alts.append(sub)
                if i >= len(s):
                    raise Unsupported("open alternative")
                if s[i] == ")":
                    i += 1
                    break
                i += 1  # '|'
            if neg:
                if not all(len(a) and all(e[0] == "hex" for e in a) for a in alts):
                    raise Unsupported("negated generic alternative")
                el.append(("nalt", [b"".join(e[1] for e in a) for a in alts]))
            elif all(len(a) and all(e[0] == "hex" for e in a) for a in alts) and \
                    len(set(len(b"".join(e[1] for e in a)) for a in alts)) == 1:
                el.append(("alt", [b"".join(e[1] for e in a) for a in alts]))
            else:
                el.append(("galt", alts))
        else:
            pair = s[i:i + 2]
            if len(pair) < 2:
                raise Unsupported("odd hex")
            i += 2
            if pair == "??":
                el.append(("any", 1))
            elif pair[1] == "?":
                el.append(("hi", int(pair[0], 16)))
            elif pair[0] == "?":
                el.append(("lo", int(pair[1], 16)))
            else:
                v = bytes([int(pair, 16)])
                if el and el[-1][0] == "hex":
                    el[-1] = ("hex", el[-1][1] + v)
                else:
                    el.append(("hex", v))
    return el, i


def parse_offset(o):
    """Returns (kind, a, b, maxshift) in gen_sigs terms or raises."""
    if o in ("*", ""):
        return ("any",), 0
    shift = 0
    if "," in o:
        o, sh = o.split(",", 1)
        shift = int(sh)
    if o.isdigit():
        return ("abs", int(o)), shift
    if o.startswith("EOF-"):
        return ("eof", int(o[4:])), shift
    if o.startswith("EP+"):
        return ("ep+", int(o[3:])), shift
    if o.startswith("EP-"):
        return ("ep-", int(o[3:])), shift
    if o.startswith("SL+"):
        return ("last", int(o[3:])), shift
    if o.startswith("SE"):
        return ("sectall", int(o[2:])), shift
    if o.startswith("S") and "+" in o:
        x, n = o[1:].split("+")
        return ("sect", int(x), int(n)), shift
    raise Unsupported("offset " + o)


# ---- logical expressions ----

def parse_logic(s):
    pos = [0]

    def peek():
        return s[pos[0]] if pos[0] < len(s) else ""

    def num():
        j = pos[0]
        while pos[0] < len(s) and s[pos[0]].isdigit():
            pos[0] += 1
        if j == pos[0]:
            raise Unsupported("logic " + s)
        return int(s[j:pos[0]])

    def primary():
        if peek() == "(":
            pos[0] += 1
            e = expr()
            if peek() != ")":
                raise Unsupported("logic " + s)
            pos[0] += 1
        else:
            e = ("sub", num())
        if peek() in ("=", ">", "<"):
            op = peek()
            pos[0] += 1
            x = num()
            y = None
            if peek() == ",":
                pos[0] += 1
                y = num()
            e = ("cmp", op, e, x, y)
        return e

    def expr():
        e = primary()
        while peek() in ("&", "|"):
            op = peek()
            pos[0] += 1
            e = (op, e, primary())
        return e

    e = expr()
    if pos[0] != len(s):
        raise Unsupported("logic " + s)
    return e


def eval_logic(e, counts):
    """Returns (truth, matches, distinct set)."""
    k = e[0]
    if k == "sub":
        c = counts[e[1]] if e[1] < len(counts) else 0
        return c > 0, c, {e[1]} if c else set()
    if k in ("&", "|"):
        a, b = eval_logic(e[1], counts), eval_logic(e[2], counts)
        t = (a[0] and b[0]) if k == "&" else (a[0] or b[0])
        return t, a[1] + b[1], a[2] | b[2]
    _, op, sub, x, y = e
    t, c, d = eval_logic(sub, counts)
    ok = {"=": c == x, ">": c > x, "<": c < x}[op]
    if y is not None:
        ok = ok and len(d) >= y
    return ok, c, d


def satisfy(e, n):
    if n > 12:
        raise Unsupported("too many subsigs")
    masks = sorted(range(1 << n), key=lambda m: -bin(m).count("1"))
    for m in masks:
        counts = [(m >> i) & 1 for i in range(n)]
        if eval_logic(e, counts)[0]:
            return counts
    for rep in (2, 3):
        for m in masks:
            counts = [rep * ((m >> i) & 1) for i in range(n)]
            if eval_logic(e, counts)[0]:
                return counts
    raise Unsupported("unsatisfiable with small counts")


# ---- building files ----

def apply_mods(b, mods):
    if "w" in mods and "a" not in mods:
        return b"".join(bytes([c, 0]) for c in b)
    return b


class Builder:
    """Places (offset, bytes) items into a PE or a raw file."""

    def __init__(self, g, target, text):
        self.g = g
        self.target = target
        self.text = text

    def build(self, items, tdb):
        """items: list of (offset spec, shift, bytes)."""
        needs_pe = self.target == 1 or any(o[0] in ("ep+", "ep-", "sect", "sectall", "last")
                                           for o, _, _ in items)
        if self.target == 6:
            return self.build_elf(items)
        if needs_pe:
            return self.build_pe(items, tdb)
        return self.build_raw(items, tdb)

    def fill(self, n):
        return self.g.textfill(n) if self.text else self.g.binfill(n)

    def build_raw(self, items, tdb):
        g = self.g
        head = b"" if self.text else b"\x00\x01\x02\x03"
        fixed = [(o, sh, b) for o, sh, b in items if o[0] == "abs"]
        floating = [b for o, sh, b in items if o[0] == "any"]
        tail_items = [(o, sh, b) for o, sh, b in items if o[0] == "eof"]
        size = max([o[1] + len(b) + 8 for o, _, b in fixed] + [64])
        data = bytearray(head + self.fill(size + 64))[:size]
        for o, sh, b in fixed:
            data[o[1]:o[1] + len(b)] = b
        sep = b" " if self.text else b""
        for b in floating:
            data += self.fill(g.rng.randint(4, 40)) + sep + b + sep
        eof_len = max([o[1] for o, _, _ in tail_items] + [0])
        data += self.fill(max(eof_len, 16))
        for o, sh, b in tail_items:
            p = len(data) - o[1]
            if o[1] < len(b) or p < 0:
                raise Unsupported("EOF offset shorter than pattern")
            data[p:p + len(b)] = b
        return self.fit_size(bytes(data), tdb, bool(tail_items))

    def fit_size(self, data, tdb, has_eof):
        lo, hi = tdb.get("FileSize", (0, 1 << 40))
        if len(data) > hi:
            raise Unsupported("file too large for FileSize")
        if len(data) < lo:
            if has_eof or lo > (4 << 20):
                raise Unsupported("FileSize needs padding")
            data = data + self.fill(lo - len(data) + min(16, hi - lo))
        return data

    def build_elf(self, items):
        body = bytearray(self.fill(0x400))
        data, ep = sg.make_elf(bytes(body), 0x40)
        data = bytearray(data)
        cur = ep + 0x200
        for o, sh, b in items:
            if o[0] == "any":
                p = cur
                cur += len(b) + 8
            elif o[0] == "abs":
                p = o[1]
            elif o[0] == "ep+":
                p = ep + o[1]
            else:
                raise Unsupported("elf offset")
            if p + len(b) > len(data):
                data += self.fill(p + len(b) - len(data) + 16)
            data[p:p + len(b)] = b
        return bytes(data)

    def build_pe(self, items, tdb):
        g = self.g
        lo, hi = tdb.get("NumberOfSections", (1, 16))
        need = 1
        for o, _, _ in items:
            if o[0] in ("sect", "sectall"):
                need = max(need, o[1] + 1)
        nsec = max(lo, min(max(need, 4), hi))
        if nsec > 8 or nsec < need or nsec < 1:
            raise Unsupported("sections")
        sizes = [0x600] * nsec
        ep_off = 0x100
        eplo, ephi = tdb.get("EntryPoint", (0, 1 << 40))
        for o, sh, b in items:
            if o[0] == "ep-":
                ep_off = max(ep_off, o[1] + 16)
        if ep_off + 0x400 < eplo:
            ep_off = eplo - 0x400
        if ep_off + 0x400 > ephi or ep_off > 0x100000:
            raise Unsupported("EntryPoint")
        floating = []
        for o, sh, b in items:
            k = o[0]
            if k == "ep+":
                sizes[0] = max(sizes[0], ep_off + o[1] + len(b) + 32)
            elif k == "sect":
                sizes[o[1]] = max(sizes[o[1]], o[2] + len(b) + 32)
            elif k == "sectall":
                sizes[o[1]] = max(sizes[o[1]], 0x80 + len(b) + 32)
            elif k == "last":
                sizes[-1] = max(sizes[-1], o[1] + len(b) + 32)
            elif k == "eof":
                if o[1] < len(b):
                    raise Unsupported("EOF offset shorter than pattern")
                sizes[-1] = max(sizes[-1], o[1] + 32)
            elif k == "any":
                floating.append(b)
        fs = 1 % nsec
        float_base = sizes[fs]
        sizes[fs] += sum(len(b) + 24 for b in floating)
        if max(sizes) > (8 << 20):
            raise Unsupported("too large")
        pe = sg.make_pe([self.g.binfill(s) for s in sizes], 0, ep_off)
        data = bytearray(pe.data)
        lo_fs, _ = tdb.get("FileSize", (0, 0))
        if len(data) < lo_fs:
            if lo_fs > (8 << 20):
                raise Unsupported("FileSize")
            data += g.binfill(lo_fs - len(data) + 16)
        cur = pe.sect_offsets[fs] + float_base
        for o, sh, b in items:
            k = o[0]
            if k == "any":
                p = cur + g.rng.randint(0, 8)
                cur = p + len(b) + 8
            elif k == "abs":
                p = o[1]
                if p < sg.PE_HEADERS:
                    raise Unsupported("absolute offset inside the PE headers")
            elif k == "eof":
                p = len(data) - o[1]
            elif k == "ep+":
                p = pe.ep + o[1]
            elif k == "ep-":
                p = pe.ep - o[1]
            elif k == "sect":
                p = pe.sect_offsets[o[1]] + o[2]
            elif k == "sectall":
                p = pe.sect_offsets[o[1]] + 0x40
            elif k == "last":
                p = pe.sect_offsets[-1] + o[1]
            else:
                raise Unsupported(k)
            if p + len(b) > len(data):
                raise Unsupported("placement beyond the file")
            data[p:p + len(b)] = b
        data = bytes(data)
        return self.fit_size(data, tdb, any(o[0] == "eof" for o, _, _ in items))


def parse_tdb(s):
    tdb = {}
    for kv in s.split(","):
        if ":" not in kv:
            raise Unsupported("tdb " + kv)
        k, v = kv.split(":", 1)
        if k == "Engine":
            continue
        if k == "Target":
            tdb[k] = int(v)
        elif k in ("FileSize", "NumberOfSections", "EntryPoint"):
            if "-" in v:
                a, b = v.split("-")
                tdb[k] = (int(a), int(b))
            else:
                tdb[k] = (int(v), int(v))
        else:
            raise Unsupported("tdb key " + k)
    return tdb


def sample_for(g, target, text, parts, tdb, mutate_first=False):
    """parts: list of (offset spec, shift, Pattern, mods, count)."""
    items = []
    for idx, (off, shift, pat, mods, count) in enumerate(parts):
        for c in range(count):
            mut = None
            if mutate_first and idx == 0 and c == 0:
                st = pat.statics()
                if not st:
                    raise Unsupported("no static part")
                i = max(st, key=lambda j: len(pat.elems[j][1]))
                mut = ("byte", i, len(pat.elems[i][1]) // 2)
            b = apply_mods(pat.gen(g, mut), mods)
            if "f" in mods:
                b = b" " + b + b" "
            if shift:
                off = off  # the start may float by up to shift: the exact offset is inside it
            items.append((off, shift, b))
    return Builder(g, target, text).build(items, tdb)


def gen_ndb(g, path, setname, step, manifest, stats):
    n = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [l.rstrip("\n") for l in fh if l.strip() and not l.startswith("#")]
    for li, line in enumerate(lines):
        if li % step:
            continue
        f = line.split(":")
        try:
            if len(f) < 4:
                raise Unsupported("fields")
            name, target, off, hexs = f[0], int(f[1]), f[2], f[3]
            if target not in (0, 1, 6, 7):
                raise Unsupported("target %d" % target)
            o, shift = parse_offset(off)
            text = target == 7 or setname == "rfxn"
            pat = gs.Pattern(parse_hex(hexs), text)
            parts = [(o, shift, pat, "", 1)]
            pos = sample_for(g, target, text, parts, {})
            neg = sample_for(g, target, text, parts, {}, mutate_first=True)
        except (Unsupported, ValueError, IndexError) as e:
            stats[setname + " skipped"] = stats.get(setname + " skipped", 0) + 1
            _ = e
            continue
        write_pair(g, setname, name, pos, neg, manifest)
        n += 1
    stats[setname + " used"] = n


def gen_ldb(g, path, setname, step, manifest, stats):
    n = 0
    seen = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            f = line.split(";")
            try:
                if len(f) < 4:
                    raise Unsupported("fields")
                if any("/" in s or "$" in s or "#" in s for s in f[3:]):
                    raise Unsupported("pcre, macro or byte compare")
                tdb = parse_tdb(f[1])
                target = tdb.get("Target", 0)
                if target not in (0, 1):
                    raise Unsupported("target")
                seen += 1
                if seen % step:
                    continue
                logic = parse_logic(f[2])
                subs = f[3:]
                counts = satisfy(logic, len(subs))
                parts = []
                for j, s in enumerate(subs):
                    mods = ""
                    if "::" in s:
                        s, mods = s.split("::", 1)
                    off = "*"
                    if ":" in s:
                        off, s = s.split(":", 1)
                    o, shift = parse_offset(off)
                    pat = gs.Pattern(parse_hex(s), False)
                    if counts[j]:
                        parts.append((o, shift, pat, mods, counts[j]))
                if not parts:
                    raise Unsupported("matches with no subsignature")
                pos = sample_for(g, target, False, parts, tdb)
                neg = sample_for(g, target, False, parts, tdb, mutate_first=True)
            except (Unsupported, ValueError, IndexError):
                stats[setname + " skipped"] = stats.get(setname + " skipped", 0) + 1
                continue
            write_pair(g, setname, f[0], pos, neg, manifest)
            n += 1
    stats[setname + " used"] = n


def write_pair(g, setname, name, pos, neg, manifest):
    d = os.path.join(g.out, setname)
    os.makedirs(d, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100]
    g.nfiles += 1
    for kind, data in (("pos", pos), ("neg", neg)):
        rel = os.path.join(setname, "%s-%s-%05d" % (safe, kind, g.nfiles))
        with open(os.path.join(g.out, rel), "wb") as fh:
            fh.write(data)
        manifest.append((rel, kind, name))


def main():
    sigdir, out, manifest_path, prefix = sys.argv[1:5]
    g = gs.Gen(out, 4242)
    manifest = []
    stats = {}
    gen_ndb(g, os.path.join(sigdir, "rfxn.ndb"), "rfxn", 10, manifest, stats)
    gen_ndb(g, os.path.join(sigdir, "daily.ndb"), "daily", 2, manifest, stats)
    gen_ldb(g, os.path.join(sigdir, "main.ldb"), "mainldb", 60, manifest, stats)
    for sub in ("db", "corpus"):
        try:
            os.rmdir(os.path.join(out, sub))
        except OSError:
            pass
    with open(manifest_path, "w") as fh:
        for rel, kind, name in manifest:
            fh.write("%s\t%s\t%s\n" % (os.path.join(prefix, rel), kind, name))
    print("samples from real signatures: %s" % ", ".join("%s %d" % kv for kv in sorted(stats.items())))


if __name__ == "__main__":
    main()
