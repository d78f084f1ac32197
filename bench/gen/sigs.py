"""Signature sets for the benchmark.

Three kinds:
  * generated body signatures (.ndb) and the same patterns as YARA rules, so
    Ward, clamscan and yara search for exactly the same byte patterns;
  * generated MD5 hash signatures (.hdb), a few of them true hashes of planted
    files so the hash path is exercised end to end;
  * the real ClamAV sets from ../shared/sigs (gunzipped into the cache).

Everything is deterministic (random.Random(seed)) so a cache rebuilt on another
machine holds the same signatures and the results stay comparable.
"""

import gzip
import random
import re
import shutil
from pathlib import Path

# Bytes of a generated signature come from 0x01..0xfe: patterns made mostly of
# 00 or ff would match the long runs of zeros in executables all the time and
# turn the benchmark into a verifier stress test, which is not what a real
# signature set looks like.
_BYTE_LO, _BYTE_HI = 0x01, 0xFE


class BodySig:
    """One generated body signature, kept as a list of parts so it can be
    written as ClamAV hex, as a YARA hex string, and rendered into bytes that
    match it (for the planted files).

    parts: ("bytes", b"..."), ("any", 1) for a ?? byte, ("gap", lo, hi) for a
    {lo-hi} jump.
    """

    def __init__(self, name, parts):
        self.name = name
        self.parts = parts

    def clamav_hex(self):
        out = []
        for p in self.parts:
            if p[0] == "bytes":
                out.append(p[1].hex())
            elif p[0] == "any":
                out.append("??")
            else:
                out.append("{%d-%d}" % (p[1], p[2]))
        return "".join(out)

    def yara_hex(self):
        out = []
        for p in self.parts:
            if p[0] == "bytes":
                out.append(" ".join("%02X" % b for b in p[1]))
            elif p[0] == "any":
                out.append("??")
            else:
                out.append("[%d-%d]" % (p[1], p[2]))
        return " ".join(out)

    def render(self, rng):
        """Bytes that match the signature: wildcards and gaps filled at random."""
        out = bytearray()
        for p in self.parts:
            if p[0] == "bytes":
                out += p[1]
            elif p[0] == "any":
                out.append(rng.randint(_BYTE_LO, _BYTE_HI))
            else:
                out += bytes(rng.randint(_BYTE_LO, _BYTE_HI) for _ in range(rng.randint(p[1], p[2])))
        return bytes(out)


def _random_bytes(rng, n):
    return bytes(rng.randint(_BYTE_LO, _BYTE_HI) for _ in range(n))


def generate_body_sigs(count, seed):
    """`count` signatures of 16-64 matched bytes shaped like real .ndb bodies:
    2-4 static fragments of at least 6 bytes (ClamAV and Vectorscan both need
    a usable static anchor), an occasional ?? inside a fragment and {n-m}
    jumps of up to 16 bytes between fragments.

    The stream is a prefix code: generate_body_sigs(1000, s) is the first 1000
    of generate_body_sigs(100000, s), so a file planted for signature 7 is
    detected by every generated set and all sets expect the same detections.
    """
    rng = random.Random(seed)
    sigs = []
    for i in range(count):
        total = rng.randint(16, 64)
        nfrag = rng.randint(2, 4) if total >= 24 else 2
        # `total` static bytes in nfrag fragments of at least 6 bytes each.
        sizes = [6] * nfrag
        for _ in range(total - 6 * nfrag):
            sizes[rng.randrange(nfrag)] += 1
        parts = []
        for k, size in enumerate(sizes):
            frag = _random_bytes(rng, size)
            # One ?? in about a third of the fragments, never at an edge, so
            # every fragment keeps a static head and tail.
            if size >= 8 and rng.random() < 0.35:
                pos = rng.randint(3, size - 4)
                parts.append(("bytes", frag[:pos]))
                parts.append(("any", 1))
                parts.append(("bytes", frag[pos + 1:]))
            else:
                parts.append(("bytes", frag))
            if k + 1 < nfrag:
                lo = rng.randint(0, 8)
                parts.append(("gap", lo, lo + rng.randint(1, 8)))
        sigs.append(BodySig("Ward.Bench.Body.%07d" % i, parts))
    return sigs


def write_ndb(sigs, path):
    with open(path, "w") as f:
        for s in sigs:
            # Target 0 (any file), offset * (anywhere): the commonest shape in
            # real .ndb sets and the one all three tools support the same way.
            f.write("%s:0:*:%s\n" % (s.name, s.clamav_hex()))


def write_yara(sigs, path):
    """One rule per signature, so yara's per-rule bookkeeping is part of the
    measurement just as ClamAV's per-signature bookkeeping is."""
    with open(path, "w") as f:
        for s in sigs:
            ident = s.name.replace(".", "_")
            f.write("rule %s { strings: $a = { %s } condition: $a }\n" % (ident, s.yara_hex()))


def write_hdb(count, seed, planted, path):
    """`count` MD5 signatures: the true (md5, size) of every planted file
    first, then random hashes with plausible sizes. planted: [(md5hex, size)]."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i, (md5, size) in enumerate(planted):
            f.write("%s:%d:Ward.Bench.Hash.Planted.%04d\n" % (md5, size, i))
        for i in range(count - len(planted)):
            f.write("%032x:%d:Ward.Bench.Hash.%07d\n" % (rng.getrandbits(128), rng.randint(64, 8 << 20), i))


def unpack_real_sets(shared_sigs, dest):
    """Gunzip the real ClamAV sets into dest (they are stored gzipped in
    shared/ and must never be copied into the repository)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("main.ldb", "main.hdb", "daily.ndb", "rfxn.ndb", "rfxn.hdb"):
        src = shared_sigs / (name + ".gz")
        if not src.is_file():
            raise FileNotFoundError("missing real signature set %s" % src)
        with gzip.open(src, "rb") as fin, open(dest / name, "wb") as fout:
            shutil.copyfileobj(fin, fout)


# A subsignature we can render without a ClamAV engine: hex bytes, ?? and
# {n} / {n-m} jumps, nothing else (no alternatives, nibbles, anchors, offsets).
_PLAIN_HEX = re.compile(r"^(?:[0-9a-f]{2}|\?\?|\{\d+(?:-\d+)?\})+$")


def _render_clamav_hex(hexsig, rng):
    out = bytearray()
    for tok in re.findall(r"[0-9a-f]{2}|\?\?|\{\d+(?:-\d+)?\}", hexsig):
        if tok == "??":
            out.append(rng.randint(_BYTE_LO, _BYTE_HI))
        elif tok.startswith("{"):
            lo, _, hi = tok[1:-1].partition("-")
            n = rng.randint(int(lo), int(hi or lo))
            out += bytes(rng.randint(_BYTE_LO, _BYTE_HI) for _ in range(n))
        else:
            out.append(int(tok, 16))
    return bytes(out)


def pick_real_ndb(path, count, seed):
    """`count` signatures from a real .ndb that apply to any file anywhere
    (target 0, offset *) and use plain hex only, so a file holding their
    rendered bytes must be detected by clamscan and Ward alike.
    Returns [(name, rendered bytes)]."""
    cands = []
    with open(path, errors="replace") as f:
        for line in f:
            p = line.rstrip("\n").split(":")
            if len(p) >= 4 and p[1] == "0" and p[2] == "*" and _PLAIN_HEX.match(p[3]):
                cands.append((p[0], p[3]))
    rng = random.Random(seed)
    chosen = rng.sample(cands, min(count, len(cands)))
    return [(name, _render_clamav_hex(h, rng)) for name, h in chosen]


def pick_real_ldb(path, count, seed):
    """`count` logical signatures that any file can satisfy by containing all
    their subsignatures: TDB of Engine/Target:0 only, logic a plain
    conjunction of every subsignature, plain-hex subsignatures without
    modifiers or offsets. Returns [(name, rendered bytes)]; the subsignatures
    are laid out one after another with random bytes between them."""
    cands = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("#"):
                continue
            p = line.rstrip("\n").split(";")
            if len(p) < 4:
                continue
            tdb = dict(x.split(":", 1) for x in p[1].split(",") if ":" in x)
            if set(tdb) - {"Engine", "Target"} or tdb.get("Target") != "0":
                continue
            subs = p[3:]
            if not all(_PLAIN_HEX.match(s) for s in subs):
                continue
            if not re.fullmatch(r"\d+(?:&\d+)*", p[2]):
                continue
            if sorted(int(x) for x in p[2].split("&")) != list(range(len(subs))):
                continue
            cands.append((p[0], subs))
    rng = random.Random(seed)
    chosen = rng.sample(cands, min(count, len(cands)))
    out = []
    for name, subs in chosen:
        body = bytearray()
        for s in subs:
            body += _render_clamav_hex(s, rng) + _random_bytes(rng, 16)
        out.append((name, bytes(body)))
    return out
