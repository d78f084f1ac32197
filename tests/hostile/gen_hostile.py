#!/usr/bin/env python3
"""Hostile-input generator for tests/hostile (docs/internals/hostile.md).

Every input is built at run time from a few lines of arithmetic: nothing here
is ever committed. Each generator bounds its own work: the largest file it
writes is a few MiB, and the expensive-to-expand ones (bombs) are made of
repeated compressed blocks instead of compressing the expanded data.

Usage: gen_hostile.py KIND OUT [options]   (see --help; KIND list below)
"""
import argparse
import bz2
import gzip
import io
import lzma
import os
import random
import struct
import sys
import tarfile
import zipfile
import zlib

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")

MIB = 1 << 20


# ---------------------------------------------------------------- helpers


def zeros_deflate(total):
    """Raw deflate stream of `total` zero bytes without compressing them:
    one 1 MiB chunk is compressed once (full flush, so it never refers to
    data before itself) and repeated. Returns (stream, crc32)."""
    chunk = MIB
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = co.compress(b"\0" * chunk) + co.flush(zlib.Z_FULL_FLUSH)
    n, rest = divmod(total, chunk)
    parts = [body] * n
    if rest:
        co2 = zlib.compressobj(9, zlib.DEFLATED, -15)
        parts.append(co2.compress(b"\0" * rest) + co2.flush(zlib.Z_FULL_FLUSH))
    parts.append(b"\x03\x00")  # final, empty fixed-Huffman block
    crc = 0
    z = b"\0" * chunk
    for _ in range(n):
        crc = zlib.crc32(z, crc)
    crc = zlib.crc32(b"\0" * rest, crc)
    return b"".join(parts), crc


def zip_local(name, method, crc, csize, usize, flags=0):
    n = name.encode()
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21,
                       crc, csize, usize, len(n), 0) + n


def zip_central(name, method, crc, csize, usize, offset, flags=0):
    n = name.encode()
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0,
                       0x21, crc, csize, usize, len(n), 0, 0, 0, 0, 0o100644 << 16,
                       offset) + n


def zip_end(count, cd_size, cd_off):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size, cd_off, 0)


def zip_of(members, method=zipfile.ZIP_DEFLATED):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return bio.getvalue()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- archives


def gen_zipbomb(out, a):
    """One zip member of a.mib MiB of zeros (ratio ~1:1000, deflate's best)."""
    stream, crc = zeros_deflate(a.mib * MIB)
    usize = a.mib * MIB
    lh = zip_local("zeros.bin", 8, crc, len(stream), usize)
    cd = zip_central("zeros.bin", 8, crc, len(stream), usize, 0)
    body = lh + stream
    write(out, body + cd + zip_end(1, len(cd), len(body)))


def gen_bz2bomb(out, a):
    """bzip2 stream of a.mib MiB of zeros (ratio far past 1:10,000)."""
    co = bz2.BZ2Compressor(9)
    z = b"\0" * MIB
    parts = [co.compress(z) for _ in range(a.mib)]
    parts.append(co.flush())
    write(out, b"".join(parts))


def gen_overlap(out, a):
    """Fifield's non-recursive zip bomb, full-overlap form: a.count central
    directory entries all point at one local header whose member inflates to
    a.mib MiB of zeros."""
    stream, crc = zeros_deflate(a.mib * MIB)
    usize = a.mib * MIB
    lh = zip_local("k", 8, crc, len(stream), usize)
    body = lh + stream
    cd = b"".join(zip_central("k" if i == 0 else "f%06d" % i, 8, crc, len(stream), usize, 0)
                  for i in range(a.count))
    write(out, body + cd + zip_end(min(a.count, 0xFFFF), len(cd), len(body)))


def gen_repeat(out, a):
    """a.count distinct zip members (own local headers, no overlap), each
    a.mib MiB of zeros: the deflate stream is computed once and copied."""
    stream, crc = zeros_deflate(a.mib * MIB)
    usize = a.mib * MIB
    body, cd, off = [], [], 0
    for i in range(a.count):
        name = "z%05d.bin" % i
        lh = zip_local(name, 8, crc, len(stream), usize) + stream
        cd.append(zip_central(name, 8, crc, len(stream), usize, off))
        body.append(lh)
        off += len(lh)
    cdb = b"".join(cd)
    write(out, b"".join(body) + cdb + zip_end(min(a.count, 0xFFFF), len(cdb), off))


def gen_nested(out, a):
    """a.depth zips, each holding the next; the innermost holds EICAR (or
    harmless text with --clean). Deflated, so EICAR is not visible in the
    raw bytes of any outer level."""
    data = b"clean text, nothing to see\n" if a.clean else EICAR
    name = "eicar.com"
    for level in range(a.depth):
        data = zip_of([(name, data)], zipfile.ZIP_DEFLATED)
        name = "level%03d.zip" % (a.depth - level)
    write(out, data)


def gen_fanout(out, a):
    """42.zip-style: a.depth levels, each a zip of a.fan copies of the level
    below; leaves are a.mib MiB of zeros. Every level stays under deflate's
    32 KiB window, so the whole file is a few KiB."""
    data = zip_of([("leaf.bin", b"\0" * (a.mib * MIB))])
    for level in range(a.depth):
        data = zip_of([("l%d_%02d.zip" % (level, i), data) for i in range(a.fan)])
    write(out, data)


def gen_many(out, a):
    """One archive with a.count entries: regular 1-byte files (zip or tar) or
    directories (--dirs, tar only). Written by hand: zipfile is too slow."""
    if a.format == "tar":
        # ustar headers by hand (tarfile takes seconds for 100,000): empty
        # regular files or directories, 512 bytes each.
        parts = []
        for i in range(a.count):
            h = bytearray(512)
            name = ("d%06d/" % i if a.dirs else "f%06d" % i).encode()
            h[0:len(name)] = name
            h[100:108] = b"0000755\0" if a.dirs else b"0000644\0"
            h[108:116] = b"0000000\0"
            h[116:124] = b"0000000\0"
            h[124:136] = b"00000000000\0"
            h[136:148] = b"00000000000\0"
            h[148:156] = b" " * 8
            h[156:157] = b"5" if a.dirs else b"0"
            h[257:265] = b"ustar\x0000"
            h[148:156] = b"%06o\0 " % sum(h)
            parts.append(bytes(h))
        parts.append(b"\0" * 1024)
        write(out, b"".join(parts))
        return
    crc = zlib.crc32(b"x")
    body, cd = [], []
    off = 0
    for i in range(a.count):
        name = "f%06d" % i
        lh = zip_local(name, 0, crc, 1, 1) + b"x"
        cd.append(zip_central(name, 0, crc, 1, 1, off))
        body.append(lh)
        off += len(lh)
    cdb = b"".join(cd)
    # More than 65535 entries: the count fields say 0xFFFF, as zip writers
    # without zip64 do; readers walk the central directory by size.
    write(out, b"".join(body) + cdb + zip_end(min(a.count, 0xFFFF), len(cdb), off))


def sample_archives():
    """Small valid archives of each format, each holding EICAR and text."""
    members = [("readme.txt", b"hello hostile world\n" * 50), ("eicar.com", EICAR),
               ("bin.dat", bytes(range(256)) * 40)]
    out = {"zip": zip_of(members)}
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        for n, d in members:
            ti = tarfile.TarInfo(n)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    tar = bio.getvalue()
    out["tar"] = tar
    out["tar.gz"] = gzip.compress(tar, mtime=0)
    out["tar.bz2"] = bz2.compress(tar)
    out["tar.xz"] = lzma.compress(tar)
    out["gz"] = gzip.compress(EICAR + b"\n" * 100, mtime=0)
    return out


def gen_mutants(out, a):
    """Directory of truncated and bit-flipped copies of small valid archives
    (deterministic: seeded). Also writes the originals as orig.*."""
    rnd = random.Random(a.seed)
    os.makedirs(out, exist_ok=True)
    n = 0
    for ext, data in sample_archives().items():
        write(os.path.join(out, "orig." + ext), data)
        cuts = sorted({1, 2, 4, 10, 30, 64, 100, 512, len(data) // 3, len(data) // 2,
                       len(data) - 22, len(data) - 1} | {rnd.randrange(1, len(data)) for _ in range(a.per // 4)})
        for c in cuts:
            if 0 < c < len(data):
                write(os.path.join(out, "trunc%05d.%s" % (c, ext)), data[:c])
                n += 1
        for i in range(a.per):
            b = bytearray(data)
            for _ in range(rnd.choice((1, 1, 2, 4, 16))):
                pos = rnd.randrange(len(b))
                if i % 3 == 0 and pos < 512:
                    pos = rnd.randrange(min(len(b), 64))  # headers: most interesting
                b[pos] ^= 1 << rnd.randrange(8)
            write(os.path.join(out, "flip%04d.%s" % (i, ext)), bytes(b))
            n += 1
    print(n)


# ---------------------------------------------------------------- quine
#
# A gzip file that decompresses to itself (Russ Cox, "Zip Files All The Way
# Down", 2010; the construction below is our own encoding of his idea). The
# DEFLATE stream is a program of two instructions, each one `U` bytes long:
#   L(n): a stored block: print the next n bytes literally;
#   R(n): a fixed-Huffman block copying the last n bytes (distance n).
# With the gzip header P in front and the trailer S behind, the program
#   L(P+1) P L(P+1)  R(P+1)  L(1) R(P+1)  L(1) L(1)  L(4) R(P+1) L(1) L(1) L(4)
#   R(4)  L(4) R(4) L(4) R(4) L(4)  R(4)  L(4) R(4) L0 L0 L(S+1)  R(4)  L0 L0
#   L(S+1) R(S+1) S  R(S+1) S
# prints every byte of the file (n counts instructions; P+1 means the header
# and one instruction). The CRC-32 in S covers the output, i.e. the file
# itself: CRC-32 is affine over GF(2), so the fixed point is a 32x32 solve.


class Bits:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, nbits):  # LSB first (header fields, extra bits)
        for i in range(nbits):
            self.acc |= ((value >> i) & 1) << self.n
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                self.acc = self.n = 0

    def huff(self, code, nbits):  # Huffman codes go MSB first
        for i in reversed(range(nbits)):
            self.put((code >> i) & 1, 1)

    def align(self):
        if self.n:
            self.out.append(self.acc)
            self.acc = self.n = 0

    def bits(self):
        return len(self.out) * 8 + self.n


LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67,
            83, 99, 115, 131, 163, 195, 227, 258]
LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
             1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10,
              11, 11, 12, 12, 13, 13]


def put_litlen(b, sym):
    if sym < 144:
        b.huff(0x30 + sym, 8)
    elif sym < 256:
        b.huff(0x190 + sym - 144, 9)
    elif sym < 280:
        b.huff(sym - 256, 7)
    else:
        b.huff(0xC0 + sym - 280, 8)


def put_copy(b, length, dist):
    i = max(k for k in range(29) if LEN_BASE[k] <= length)
    if i == 28 and length != 258:
        i = 27
    put_litlen(b, 257 + i)
    b.put(length - LEN_BASE[i], LEN_EXTRA[i])
    j = max(k for k in range(30) if DIST_BASE[k] <= dist)
    b.huff(j, 5)
    b.put(dist - DIST_BASE[j], DIST_EXTRA[j])


def copies(n):
    """Split a copy of n bytes at distance n into copies of at most 258
    (each later copy reads n bytes back, so the pieces concatenate)."""
    out = []
    while n > 0:
        k = min(n, 258)
        if 0 < n - k < 3:
            k = n - 3
        out.append(k)
        n -= k
    return out


def op_lit(u, n, empties):
    b = Bits()
    for _ in range(empties):  # empty fixed blocks: pad the op to u bytes
        b.put(0, 1)
        b.put(1, 2)
        b.huff(0, 7)
    b.put(0, 1)
    b.put(0, 2)  # stored
    b.align()
    b.out += struct.pack("<HH", n, n ^ 0xFFFF)
    return bytes(b.out) if len(b.out) == u else None


def op_rep(u, n, final, empties):
    b = Bits()
    for _ in range(empties):
        b.put(0, 1)
        b.put(1, 2)
        b.huff(0, 7)
    b.put(1 if final else 0, 1)
    b.put(1, 2)  # fixed Huffman
    for k in copies(n):
        put_copy(b, k, n)
    b.huff(0, 7)  # end of block
    if final:
        b.align()
        return bytes(b.out) if len(b.out) == u else None
    # An empty stored block brings the stream back to a byte boundary.
    b.put(0, 1)
    b.put(0, 2)
    b.align()
    b.out += struct.pack("<HH", 0, 0xFFFF)
    return bytes(b.out) if len(b.out) == u else None


def fit(u, make):
    for e in range(16):
        r = make(e)
        if r is not None:
            return r
    return None


def quine_body(header, trailer_len, u):
    """The deflate program for unit u, or None when some op does not fit."""
    p, s = len(header), trailer_len
    L = lambda n: fit(u, lambda e: op_lit(u, n, e))
    R = lambda n, final=False: fit(u, lambda e: op_rep(u, n, final, e))
    ops = {"Lp": L(p + u), "Rp": R(p + u), "L1": L(u), "L4": L(4 * u), "R4": R(4 * u),
           "L0": L(0), "Ls": L(u + s), "Rs": R(u + s), "Rsf": R(u + s, True)}
    if any(v is None for v in ops.values()):
        return None
    o = ops
    seq = [o["Lp"], header, o["Lp"], o["Rp"], o["L1"], o["Rp"], o["L1"], o["L1"],
           o["L4"], o["Rp"], o["L1"], o["L1"], o["L4"], o["R4"],
           o["L4"], o["R4"], o["L4"], o["R4"], o["L4"], o["R4"],
           o["L4"], o["R4"], o["L0"], o["L0"], o["Ls"], o["R4"], o["L0"], o["L0"],
           o["Ls"], o["Rsf"], None, o["Rsf"]]
    return seq


def gen_quine(out, a):
    # gzip header with FNAME; the name is padded so the search below finds
    # a unit size where every op fits.
    for pad in range(0, 40):
        header = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, 0x08, 0, 0, 3) + b"q" * (1 + pad) + b"\0"
        for u in range(5, 24):
            seq = quine_body(header, 8, u)
            if seq is None:
                continue

            def build(crc):
                total = 0
                parts = []
                for x in seq:
                    parts.append(x if x is not None else b"\0" * 8)
                body = header + b"".join(parts) + b"\0" * 8
                total = len(body)
                trailer = struct.pack("<II", crc, total & 0xFFFFFFFF)
                return b"".join([header] + [x if x is not None else trailer for x in seq]) + trailer

            # Solve crc32(build(x)) == x over GF(2).
            base = zlib.crc32(build(0))
            cols = [zlib.crc32(build(1 << i)) ^ base for i in range(32)]
            # (A + I) x = base, where A has columns cols (linear part).
            rows = []
            for r in range(32):
                row = 0
                for c in range(32):
                    bit = (cols[c] >> r) & 1
                    if r == c:
                        bit ^= 1
                    row |= bit << c
                rows.append([row, (base >> r) & 1])
            x = solve_gf2(rows)
            if x is None:
                continue
            data = build(x)
            try:
                ok = gzip.decompress(data) == data
            except Exception:
                ok = False
            if ok:
                write(out, data)
                return
    sys.exit("gen_hostile: no quine found")


def solve_gf2(rows):
    n = 32
    rows = [list(r) for r in rows]
    piv_row = 0
    where = [-1] * n
    for col in range(n):
        sel = next((r for r in range(piv_row, n) if (rows[r][0] >> col) & 1), None)
        if sel is None:
            continue
        rows[piv_row], rows[sel] = rows[sel], rows[piv_row]
        for r in range(n):
            if r != piv_row and (rows[r][0] >> col) & 1:
                rows[r][0] ^= rows[piv_row][0]
                rows[r][1] ^= rows[piv_row][1]
        where[col] = piv_row
        piv_row += 1
    for r in range(piv_row, n):
        if rows[r][1]:
            return None
    x = 0
    for col in range(n):
        if where[col] >= 0 and rows[where[col]][1]:
            x |= 1 << col
    return x


# ---------------------------------------------------------------- executables


def pe_file(nsect=3, nsect_decl=None, ep=0x1000, lfanew=0x80, opt_size=0xE0,
            sections=None, tail=b"", machine=0x14C, size_of_image=None):
    """A PE32 file: MZ stub, PE header, optional header of opt_size bytes,
    the section table. Fields are taken as given, however absurd."""
    mz = bytearray(64)
    mz[0:2] = b"MZ"
    struct.pack_into("<I", mz, 0x3C, lfanew & 0xFFFFFFFF)
    f = bytearray(mz) + b"\0" * max(0, min(lfanew, 4096) - 64)
    if nsect_decl is None:
        nsect_decl = nsect
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", machine, nsect_decl & 0xFFFF, 0, 0, 0,
                       opt_size & 0xFFFF, 0x0102)
    opt = bytearray(max(opt_size, 0) if opt_size <= 0x400 else 0xE0)
    if len(opt) >= 0x60:
        struct.pack_into("<HBBIIIIII", opt, 0, 0x10B, 1, 0, 0x1000, 0, 0, ep & 0xFFFFFFFF, 0x1000, 0)
        struct.pack_into("<IIIHHHHHHIIII", opt, 28, 0x400000, 0x1000, 0x200, 4, 0, 0, 0, 4, 0, 0,
                         (size_of_image if size_of_image is not None else 0x10000) & 0xFFFFFFFF,
                         0x200, 0)
        struct.pack_into("<I", opt, 92, 16)
    if sections is None:
        sections = [(".s%d" % i, 0x1000 * (i + 1), 0x1000, 0x200 * (i + 1), 0x200) for i in range(nsect)]
    st = b""
    for name, va, vsize, raw, rsize in sections:
        st += struct.pack("<8sIIIIIIHHI", name.encode()[:8], vsize & 0xFFFFFFFF, va & 0xFFFFFFFF,
                          rsize & 0xFFFFFFFF, raw & 0xFFFFFFFF, 0, 0, 0, 0, 0x60000020)
    if lfanew < 4096:
        f = f[:lfanew]
        f += coff + bytes(opt) + st
    return bytes(f) + tail


def gen_pe(out, a):
    """Directory of PE files with absurd headers (names say which field)."""
    os.makedirs(out, exist_ok=True)
    body = b"\x90" * 0x800 + EICAR[:0] + b"WARDPE-MARK" + b"\xcc" * 0x800
    cases = {
        "sane": pe_file(tail=body),
        "lfanew_past_eof": pe_file(lfanew=0x7FFFFFF0, tail=body),
        "lfanew_negative": pe_file(lfanew=0xFFFFFFFC, tail=body),
        "lfanew_at_end": pe_file(lfanew=0x3C, tail=b""),
        "nsect_65535_decl": pe_file(nsect=3, nsect_decl=0xFFFF, tail=body),
        "nsect_96": pe_file(nsect=96, tail=body),
        "nsect_97": pe_file(nsect=97, tail=body),
        "nsect_0": pe_file(nsect=0, tail=body),
        "optsize_ffff": pe_file(opt_size=0xFFFF, tail=body),
        "optsize_0": pe_file(opt_size=0, tail=body),
        "ep_ffffffff": pe_file(ep=0xFFFFFFFF, tail=body),
        "ep_outside": pe_file(ep=0x7FFF0000, tail=body),
        "ep_in_bss": pe_file(ep=0x1100, sections=[(".bss", 0x1000, 0x100000, 0, 0)], tail=body),
        "sect_raw_huge": pe_file(sections=[(".a", 0x1000, 0x1000, 0xFFFFFE00, 0xFFFFFE00)], tail=body),
        "sect_raw_wrap": pe_file(sections=[(".a", 0x1000, 0x1000, 0x200, 0xFFFFFFFF)], tail=body),
        "sect_va_wrap": pe_file(ep=0xFFFFF100, sections=[(".a", 0xFFFFF000, 0xFFFFFFFF, 0x200, 0x200)], tail=body),
        "sect_overlap": pe_file(ep=0x1000, sections=[(".a", 0x1000, 0x10000, 0x200, 0x800)] * 40, tail=body),
        "sect_vsize_0_ep": pe_file(ep=0x1000, sections=[(".a", 0x1000, 0, 0x200, 0)], tail=body),
        "sizeofimage_0": pe_file(size_of_image=0, tail=body),
        "machine_bogus": pe_file(machine=0xBEEF, tail=body),
        "truncated_table": pe_file(nsect=40, tail=b"")[:0x80 + 24 + 0xE0 + 40 * 13],
    }
    for k, v in cases.items():
        write(os.path.join(out, k + ".exe"), v)


def elf_file(bits=64, endian="<", phnum=1, shnum=0, phoff=None, shoff=0, phentsize=None,
             shentsize=None, entry=0x400080, phdrs=None, shdrs=None, tail=b"", shstrndx=0):
    e = endian
    if bits == 64:
        ehsize, phes, shes = 64, 56, 64
    else:
        ehsize, phes, shes = 52, 32, 40
    phentsize = phes if phentsize is None else phentsize
    shentsize = shes if shentsize is None else shentsize
    if phoff is None:
        phoff = ehsize
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1 if e == "<" else 2, 1, 0]) + b"\0" * 8
    if bits == 64:
        hdr = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, 62, 1, entry & (2**64 - 1), phoff & (2**64 - 1),
                                  shoff & (2**64 - 1), 0, ehsize, phentsize & 0xFFFF, phnum & 0xFFFF,
                                  shentsize & 0xFFFF, shnum & 0xFFFF, shstrndx & 0xFFFF)
    else:
        hdr = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, 3, 1, entry & 0xFFFFFFFF, phoff & 0xFFFFFFFF,
                                  shoff & 0xFFFFFFFF, 0, ehsize, phentsize & 0xFFFF, phnum & 0xFFFF,
                                  shentsize & 0xFFFF, shnum & 0xFFFF, shstrndx & 0xFFFF)
    body = bytearray(hdr)
    for (ptype, off, vaddr, filesz, memsz) in (phdrs or []):
        if bits == 64:
            body += struct.pack(e + "IIQQQQQQ", ptype, 5, off, vaddr, vaddr, filesz, memsz, 0x1000)
        else:
            body += struct.pack(e + "IIIIIIII", ptype, off, vaddr, vaddr, filesz, memsz, 5, 0x1000)
    for (name, stype, off, size) in (shdrs or []):
        if bits == 64:
            body += struct.pack(e + "IIQQQQIIQQ", name, stype, 0, 0, off, size, 0, 0, 1, 0)
        else:
            body += struct.pack(e + "IIIIIIIIII", name, stype, 0, 0, off, size, 0, 0, 1, 0)
    return bytes(body) + tail


def gen_elf(out, a):
    os.makedirs(out, exist_ok=True)
    body = b"\x90" * 0x200 + b"WARDELF-MARK" + b"\xcc" * 0x200
    M = 2**64 - 1
    cases = {
        "sane64": elf_file(phdrs=[(1, 0, 0x400000, 0x1000, 0x1000)], tail=body),
        "sane32be": elf_file(bits=32, endian=">", entry=0x8048080,
                             phdrs=[(1, 0, 0x8048000, 0x1000, 0x1000)], tail=body),
        "phnum_65535": elf_file(phnum=0xFFFF, phdrs=[(1, 0, 0x400000, 0x1000, 0x1000)], tail=body),
        "shnum_65535": elf_file(shnum=0xFFFF, shoff=64, tail=body),
        "shnum_65535_past_eof": elf_file(shnum=0xFFFF, shoff=0x7FFFFFFFFFFF, tail=body),
        "phoff_huge": elf_file(phoff=M - 8, tail=body),
        "shoff_wrap": elf_file(shnum=4, shoff=M - 100, tail=body),
        "phentsize_0": elf_file(phentsize=0, phnum=1000, tail=body),
        "phentsize_ffff": elf_file(phentsize=0xFFFF, phnum=0xFFFF, tail=body),
        "shentsize_1": elf_file(shentsize=1, shnum=4096, shoff=64, tail=body),
        "seg_filesz_wrap": elf_file(phdrs=[(1, 0x100, 0x400000, M - 0x80, M)], entry=0x400010, tail=body),
        "seg_off_huge": elf_file(phdrs=[(1, M - 0xFFF, 0x400000, 0x2000, 0x2000)], tail=body),
        "seg_vaddr_wrap": elf_file(phdrs=[(1, 0, M - 0x10, 0x1000, 0x1000)], entry=M - 8, tail=body),
        "entry_nowhere": elf_file(entry=0xDEADBEEF, phdrs=[(1, 0, 0x400000, 0x100, 0x100)], tail=body),
        "many_phdrs": elf_file(phnum=4096, phdrs=[(1, 0, 0x400000, 0x1000, 0x1000)] * 4096, tail=body),
        "sect_wrap": elf_file(shnum=3, shoff=64 + 56, phdrs=[(1, 0, 0x400000, 0x1000, 0x1000)],
                              shdrs=[(0, 1, M - 1, 16), (0, 1, 0x40, M), (0, 8, 0, M)], tail=body),
        "shstrndx_bogus": elf_file(shnum=1, shoff=64 + 56, shstrndx=0xFFFF,
                                   phdrs=[(1, 0, 0x400000, 0x1000, 0x1000)],
                                   shdrs=[(0xFFFFFFFF, 3, 0, 0x10)], tail=body),
        "class_bogus": b"\x7fELF\x07\x09\x01" + b"\0" * 60 + body,
        "truncated_hdr": elf_file(tail=body)[:40],
    }
    for k, v in cases.items():
        write(os.path.join(out, k + ".elf"), v)


# ---------------------------------------------------------------- junk for signatures


def gen_junk(out, a):
    """a.mib MiB of one of: zeros, spaces, 'a' ending in 'b' (PCRE),
    ABCD (the letters of the many-part pattern repeated), 00ff (alternation
    fodder)."""
    n = a.mib * MIB
    unit = {"zeros": b"\0", "spaces": b" ", "a": b"a", "ABCD": b"AAAABBBBCCCCDDDD",
            "00ff": b"\x00\xff\xff\x00", "random": None}[a.what]
    if unit is None:
        data = random.Random(a.seed).randbytes(n)
    else:
        data = (unit * (n // len(unit) + 1))[:n]
    if a.what == "a":
        data = data[:-1] + b"b"
    write(out, data)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["zipbomb", "bz2bomb", "overlap", "repeat", "nested", "fanout", "many",
                                    "mutants", "quine", "pe", "elf", "junk"])
    p.add_argument("out")
    p.add_argument("--mib", type=int, default=64)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--depth", type=int, default=100)
    p.add_argument("--fan", type=int, default=16)
    p.add_argument("--format", default="zip")
    p.add_argument("--dirs", action="store_true")
    p.add_argument("--clean", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--per", type=int, default=40, help="mutants per sample (mutants)")
    p.add_argument("--what", default="zeros")
    a = p.parse_args()
    # Bound our own output: no generator writes more than 64 MiB.
    if a.kind == "junk" and a.mib > 64:
        sys.exit("gen_hostile: junk is capped at 64 MiB")
    globals()["gen_" + a.kind](a.out, a)


if __name__ == "__main__":
    main()
