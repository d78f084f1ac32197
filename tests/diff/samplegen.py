"""Builders for the files the differential tests scan: minimal PE32 and ELF64
executables, text, and zip / tar.gz containers.

Only the Python standard library is used, so the tests run wherever python3
does. Every builder is deterministic given its arguments (randomness comes from
the caller's seeded random.Random), so a corpus is reproducible byte for byte.
"""

import io
import struct
import tarfile
import zipfile

FILE_ALIGN = 0x200
SECT_ALIGN = 0x1000
PE_HEADERS = 0x400  # SizeOfHeaders: DOS stub + PE header + section table, aligned


def _align(n, a):
    return (n + a - 1) // a * a


class PE:
    """A PE32 image laid out by make_pe(): where each section starts in the file
    and where the entry point lands, so a generator can place bytes at
    EP+n, Sx+n, SEx and SL+n."""

    def __init__(self, data, sect_offsets, sect_sizes, ep_file_off):
        self.data = data
        self.sect_offsets = sect_offsets  # PointerToRawData of each section
        self.sect_sizes = sect_sizes      # SizeOfRawData of each section
        self.ep = ep_file_off


def make_pe(sections, ep_section=0, ep_off=0, dll=False):
    """sections: list of raw section contents (bytes); each is padded to the file
    alignment. The entry point is ep_off bytes into section ep_section.
    Returns a PE object."""
    nsec = len(sections)
    assert 1 <= nsec <= 8
    raw = [s + b"\0" * (_align(max(len(s), 1), FILE_ALIGN) - len(s)) for s in sections]
    offsets, vas = [], []
    off, va = PE_HEADERS, SECT_ALIGN
    for r in raw:
        offsets.append(off)
        vas.append(va)
        off += len(r)
        va += _align(len(r), SECT_ALIGN)
    size_of_image = va
    ep_rva = vas[ep_section] + ep_off

    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", 0x14C, nsec, 0x5F000000, 0, 0, 0xE0,
                       0x2102 if dll else 0x0102)
    code_size = len(raw[0])
    opt = struct.pack("<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
                      0x10B, 14, 0, code_size, sum(len(r) for r in raw[1:]), 0,
                      ep_rva, vas[0], vas[1] if nsec > 1 else vas[0],
                      0x400000, SECT_ALIGN, FILE_ALIGN,
                      6, 0, 0, 0, 6, 0, 0,
                      size_of_image, PE_HEADERS, 0, 3, 0x8140,
                      0x100000, 0x1000, 0x100000, 0x1000, 0, 16)
    opt += b"\0" * (16 * 8)
    names = [b".text", b".rdata", b".data", b".rsrc", b".reloc", b".tls", b".pdata", b".bss"]
    chars = [0x60000020, 0x40000040, 0xC0000040, 0x40000040, 0x42000040, 0xC0000040,
             0x40000040, 0xC0000080]
    sect = b""
    for i in range(nsec):
        sect += struct.pack("<8sIIIIIIHHI", names[i], len(raw[i]), vas[i], len(raw[i]),
                            offsets[i], 0, 0, 0, 0, chars[i])
    hdr = bytes(dos) + coff + opt + sect
    assert len(hdr) <= PE_HEADERS
    hdr += b"\0" * (PE_HEADERS - len(hdr))
    data = hdr + b"".join(raw)
    return PE(data, offsets, [len(r) for r in raw], offsets[ep_section] + ep_off)


def make_elf(body, ep_off):
    """An ELF64 executable: header, one PT_LOAD mapping the whole file, then
    body. The entry point is ep_off bytes into body. Returns (data, ep file offset)."""
    base = 0x400000
    hdr_len = 64 + 56
    total = hdr_len + len(body)
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                       2, 0x3E, 1, base + hdr_len + ep_off, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)
    return ehdr + phdr + body, hdr_len + ep_off


def make_zip(members, compress=True):
    """members: list of (name, bytes). Returns the zip archive bytes."""
    buf = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", mode) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = mode
            z.writestr(info, data)
    return buf.getvalue()


def make_targz(members):
    """members: list of (name, bytes). Returns gzip-compressed tar bytes with
    fixed timestamps so the output is reproducible."""
    import gzip
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1577836800
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    gbuf = io.BytesIO()
    with gzip.GzipFile(fileobj=gbuf, mode="wb", mtime=0) as g:
        g.write(tbuf.getvalue())
    return gbuf.getvalue()
