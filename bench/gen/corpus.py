"""Benchmark corpora, built once into the cache directory.

  (a) "real": files copied from this machine (ELF programs and libraries,
      Windows PE files shipped by Debian's wine and mingw-w64 packages, text,
      documentation) plus compressed archives made from such files;
  (b) "small": many 1-4 KiB files cut from the same kind of data;
  (c) "big": one large file.

Each corpus also gets planted files: files that hold the rendered bytes of a
known signature (or whose MD5 is in the generated hash set). Their relative
paths go into the manifest, so the runner can check that every tool reports
exactly them (plus whatever the real sets find on the real files, which must
then be the same for every tool).

Selection is deterministic for a given machine (sorted walk, seeded shuffle).
"""

import gzip
import hashlib
import os
import random
import tarfile
import zipfile
from pathlib import Path

MiB = 1 << 20

# Where each category of corpus (a) comes from. Roots that do not exist are
# skipped (the PE roots need the wine64 / mingw-w64 packages).
_WINE = "/usr/lib/x86_64-linux-gnu/wine"
CATEGORIES = {
    "elf": ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/lib/gcc/x86_64-linux-gnu"],
    "pe": [_WINE, "/usr/lib/gcc/x86_64-w64-mingw32", "/usr/lib/gcc/i686-w64-mingw32",
           "/usr/x86_64-w64-mingw32", "/usr/i686-w64-mingw32", "/usr/share/win32", "/usr/share/win64"],
    "text": ["/usr/include", "/usr/share/perl", "/usr/lib/python3", "/usr/share/vim", "/usr/share/javascript",
             "/usr/share/gnuplot", "/usr/share/cmake-3.25", "/usr/share/X11", "/usr/share/common-licenses"],
    "docs": ["/usr/share/doc", "/usr/share/man", "/usr/share/info"],
}
# A single huge library would otherwise eat a whole category's budget.
_MAX_FILE = 48 * MiB
# Archives: ClamAV's default MaxFiles is 10000 members; stay far below it so
# no tool stops early on a limit and the comparison stays about throughput.
_ARCHIVE_INPUT = 24 * MiB
_ARCHIVE_MAX_MEMBERS = 400


def _is_elf(head):
    return head[:4] == b"\x7fELF"


def _is_pe(head):
    return head[:2] == b"MZ"


def _is_text(head):
    return len(head) > 0 and b"\x00" not in head and head[:2] != b"\x1f\x8b"


def _any(head):
    return len(head) > 0


_PREDICATES = {"elf": _is_elf, "pe": _is_pe, "text": _is_text, "docs": _any}


def _walk(roots, exclude=()):
    """Regular files (no symlinks) under roots, sorted, excluding prefixes."""
    for root in roots:
        if not os.path.isdir(root):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            if any(dirpath.startswith(x) for x in exclude):
                dirnames[:] = []
                continue
            for name in sorted(filenames):
                p = os.path.join(dirpath, name)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if os.path.islink(p) or not os.path.isfile(p) or st.st_size == 0 or st.st_size > _MAX_FILE:
                    continue
                yield p, st.st_size


def _head(path, n=4096):
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def select_files(category, budget, rng, seen):
    """Files of one category adding up to about `budget` bytes."""
    exclude = (_WINE,) if category == "elf" else ()
    cands = [(p, s) for p, s in _walk(CATEGORIES[category], exclude) if p not in seen]
    rng.shuffle(cands)
    picked, total = [], 0
    pred = _PREDICATES[category]
    for p, s in cands:
        if total >= budget:
            break
        if total + s > budget * 1.05:
            continue
        if not pred(_head(p)):
            continue
        picked.append((p, s))
        seen.add(p)
        total += s
    return picked, total


def _copy(src, dst):
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while True:
            b = fin.read(MiB)
            if not b:
                break
            fout.write(b)


def _write_archive(kind, members, dst):
    """One archive of `members` [(src path, arcname)] in format `kind`, with
    fixed timestamps so the bytes are reproducible."""
    if kind == "zip":
        with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for src, arc in members:
                info = zipfile.ZipInfo(arc, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(src, "rb") as f:
                    z.writestr(info, f.read())
        return
    if kind == "gz":  # one compressed file, like the .gz files in /usr/share/doc
        with open(members[0][0], "rb") as fin, open(dst, "wb") as fout:
            fout.write(gzip.compress(fin.read(), compresslevel=6, mtime=0))
        return
    mode = {"tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}[kind]
    kwargs = {"preset": 1} if kind == "tar.xz" else {"compresslevel": 6}
    with tarfile.open(dst, mode, format=tarfile.GNU_FORMAT, **kwargs) as t:
        for src, arc in members:
            ti = t.gettarinfo(src, arcname=arc)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname, ti.mode = 0, 0, 0, "", "", 0o644
            with open(src, "rb") as f:
                t.addfile(ti, f)


# Mostly gzip-family formats (what machines hold most), some bzip2 and xz so
# the decompressors each tool uses are exercised too.
_ARCHIVE_KINDS = ["tar.gz", "zip", "tar.gz", "zip", "gz", "tar.bz2", "tar.gz", "zip", "tar.xz"]


def build_archives(dst_dir, budget, pool, rng):
    """Archives adding up to about `budget` bytes, members drawn from pool."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    total, i = 0, 0
    while total < budget and pool:
        kind = _ARCHIVE_KINDS[i % len(_ARCHIVE_KINDS)]
        want = min(_ARCHIVE_INPUT, max(MiB, (budget - total) * 3))
        members, insize = [], 0
        while insize < want and len(members) < _ARCHIVE_MAX_MEMBERS:
            p, s = pool[rng.randrange(len(pool))]
            members.append((p, "m%03d/%s" % (len(members), os.path.basename(p))))
            insize += s
            if kind == "gz":
                break
        dst = dst_dir / ("archive_%04d.%s" % (i, kind))
        _write_archive(kind, members, dst)
        total += dst.stat().st_size
        i += 1
    return total


def _planted_file(rng, size, payload):
    """`size` bytes of noise holding `payload` at a random offset. The fixed
    text prefix keeps file-type detection from seeing random magic numbers."""
    prefix = b"ward-bench planted file\n"
    size = max(size, len(prefix) + len(payload) + 16)
    noise = bytearray(rng.randbytes(size - len(prefix)))
    off = rng.randint(0, len(noise) - len(payload))
    noise[off:off + len(payload)] = payload
    return prefix + bytes(noise)


def plant(dst_dir, payloads, rng, size_lo, size_hi, rel_to):
    """Write one file per payload. payloads: {kind: [bytes or None]} (None:
    plain noise, for the hash set). Returns ({kind: [relative paths]},
    [(md5, size)] of the "hash" files)."""
    dst_dir.mkdir(parents=True, exist_ok=True)
    manifest, hashes = {}, []
    for kind in sorted(payloads):
        for i, payload in enumerate(payloads[kind]):
            data = _planted_file(rng, rng.randint(size_lo, size_hi), payload or b"")
            p = dst_dir / ("planted_%s_%03d.bin" % (kind, i))
            p.write_bytes(data)
            manifest.setdefault(kind, []).append(str(p.relative_to(rel_to)))
            if kind == "hash":
                hashes.append((hashlib.md5(data).hexdigest(), len(data)))
    return manifest, hashes


def build_real(dst, budgets, payloads, seed, log):
    """Corpus (a). budgets: {category: bytes} for elf, pe, text, docs,
    archives. Returns (manifest, hashes, pool of copied files)."""
    rng = random.Random(seed)
    seen, pool = set(), []
    for cat in ("elf", "pe", "text", "docs"):
        picked, total = select_files(cat, budgets[cat], rng, seen)
        d = dst / cat
        d.mkdir(parents=True, exist_ok=True)
        for i, (p, s) in enumerate(picked):
            out = d / ("%05d_%s" % (i, os.path.basename(p)))
            _copy(p, out)
            pool.append((str(out), s))
        log("  %-8s %5d files %7.1f MiB%s" % (cat, len(picked), total / MiB,
                                              "  (short of the budget: install wine64/mingw-w64?)" if total < budgets[cat] * 0.5 else ""))
    # Archive members come from the copies (text, docs and executables alike).
    total = build_archives(dst / "archives", budgets["archives"], pool, rng)
    log("  %-8s %7.1f MiB" % ("archives", total / MiB))
    manifest, hashes = plant(dst / "planted", payloads, rng, 4096, 65536, dst)
    return manifest, hashes, pool


def build_small(dst, count, pool, payloads, seed):
    """Corpus (b): `count` files of 1-4 KiB (planted ones included), cut at
    random offsets from the files of corpus (a), 1000 per directory."""
    rng = random.Random(seed)
    nplant = sum(len(v) for v in payloads.values())
    handles = {}
    for i in range(count - nplant):
        src, size = pool[rng.randrange(len(pool))]
        n = rng.randint(1024, 4096)
        off = rng.randint(0, max(0, size - n))
        with open(src, "rb") as f:
            f.seek(off)
            data = f.read(n)
        d = dst / ("d%02d" % (i // 1000))
        if d not in handles:
            d.mkdir(parents=True, exist_ok=True)
            handles[d] = True
        (d / ("f%05d" % i)).write_bytes(data)
    return plant(dst / "planted", payloads, rng, 1024, 4096, dst)


def build_big(path, size, pool, payloads, seed):
    """Corpus (c): one file of `size` bytes: the files of corpus (a) laid end
    to end (archives left out: a zip header in the middle of a file starts
    ClamAV's embedded-file extraction, which is a different benchmark), then a
    tail holding every planted payload, so a tool has to read to the end.
    Returns the file's (md5, size)."""
    rng = random.Random(seed)
    tail = bytearray()
    for kind in sorted(payloads):
        for payload in payloads[kind]:
            if payload:
                tail += rng.randbytes(4096) + payload
    tail += rng.randbytes(4096)
    body = size - len(tail)
    srcs = [p for p, _ in pool if "/archives/" not in p]
    md5 = hashlib.md5()
    written = 0
    with open(path, "wb") as out:
        head = b"ward-bench big file\n" + rng.randbytes(65536)
        out.write(head)
        md5.update(head)
        written = len(head)
        i = 0
        while written < body:
            with open(srcs[i % len(srcs)], "rb") as f:
                while written < body:
                    b = f.read(min(MiB, body - written))
                    if not b:
                        break
                    out.write(b)
                    md5.update(b)
                    written += len(b)
            i += 1
        out.write(tail)
        md5.update(tail)
    return md5.hexdigest(), size


def tree_stats(root):
    """(file count, total bytes) of a corpus directory or file."""
    root = Path(root)
    if root.is_file():
        return 1, root.stat().st_size
    n = total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            n += 1
            total += os.lstat(os.path.join(dirpath, f)).st_size
    return n, total
