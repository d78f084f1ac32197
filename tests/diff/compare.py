#!/usr/bin/env python3
"""Compare ward's and clamscan's verdicts file by file.

Inputs are the raw outputs of four runs over the same corpus root, all started
with the same PATH argument so the printed paths agree:
  clamscan -r --allmatch --no-summary, clamscan -r --no-summary,
  ward scan -r --allmatch --no-summary, ward scan -r --no-summary.

Rules (the brief of the differential tests):
  * --allmatch: the SET of names reported for a file must equal clamscan's.
  * first match: the verdict (infected or clean) must equal clamscan's, and the
    one name ward reports must be among the names clamscan's --allmatch run
    reports for that file.
Every difference becomes a divergence (corpus, file, signature). A divergence
matching an entry of known-divergences.txt is "known"; any other one fails the
test. An allow-list entry of this corpus that matched nothing fails the test
too, so the list cannot rot. Each entry's reason must start with an id (D<n>)
that has a heading in docs/compat.md.
"""

import argparse
import fnmatch
import os
import re
import sys

CLEAN = ("OK", "Empty file")


def parse_output(path, root):
    """Returns {relpath: (status, [names])}; status is FOUND, OK or the text
    clamscan/ward printed (an error)."""
    res = {}
    try:
        fh = open(path, "r", encoding="utf-8", errors="surrogateescape")
    except OSError:
        return res
    with fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or ": " not in line:
                continue
            fpath, _, rest = line.rpartition(": ")
            rel = os.path.relpath(os.path.normpath(fpath), root)
            if rel.startswith(".."):
                continue  # a diagnostic, not a verdict line
            st, names = res.get(rel, (None, []))
            if rest.endswith(" FOUND"):
                names.append(rest[: -len(" FOUND")])
                st = "FOUND"
            elif rest in CLEAN:
                st = st or "OK"
            else:
                st = st if st == "FOUND" else "ERROR(" + rest + ")"
            res[rel] = (st, names)
    return res


def load_allow(path, corpus, compat_ids):
    entries, errors = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 4 or not all(p.strip() for p in parts):
                errors.append("%s:%d: need corpus<TAB>file-glob<TAB>signature<TAB>reason" % (path, n))
                continue
            m = re.match(r"(D\d+)\b", parts[3])
            if not m:
                errors.append("%s:%d: reason must start with a docs/compat.md id (D<n>)" % (path, n))
                continue
            if m.group(1) not in compat_ids:
                errors.append("%s:%d: %s has no heading in docs/compat.md" % (path, n, m.group(1)))
                continue
            if parts[0] == corpus:
                entries.append({"line": n, "glob": parts[1], "sig": parts[2],
                                "reason": parts[3], "used": 0})
    return entries, errors


def compat_ids(path):
    ids = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r"#+\s*(D\d+)\b", line)
                if m:
                    ids.add(m.group(1))
    except OSError:
        pass
    return ids


def all_files(root):
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--clam-all", required=True)
    ap.add_argument("--clam-first", required=True)
    ap.add_argument("--ward-all", required=True)
    ap.add_argument("--ward-first", required=True)
    ap.add_argument("--allow", required=True)
    ap.add_argument("--compat", required=True)
    ap.add_argument("--manifest", help="TSV relpath<TAB>pos|neg<TAB>signature: generator expectations")
    ap.add_argument("--quiet-pass", action="store_true", help="print PASS lines only as a count")
    a = ap.parse_args()

    root = os.path.normpath(a.root)
    ca = parse_output(a.clam_all, root)
    cf = parse_output(a.clam_first, root)
    wa = parse_output(a.ward_all, root)
    wf = parse_output(a.ward_first, root)
    ids = compat_ids(a.compat)
    allow, errors = load_allow(a.allow, a.corpus, ids)
    for e in errors:
        print("ALLOW-LIST ERROR: " + e)

    files = all_files(root)
    npass = nfail = nknown = 0
    unexplained = []
    known = []

    def allowed(f, sig):
        for e in allow:
            if fnmatch.fnmatchcase(f, e["glob"]) and fnmatch.fnmatchcase(sig, e["sig"]):
                e["used"] += 1
                return e
        return None

    for f in files:
        c_all = ca.get(f, ("MISSING", []))
        c_first = cf.get(f, ("MISSING", []))
        w_all = wa.get(f, ("MISSING", []))
        w_first = wf.get(f, ("MISSING", []))
        divs = []  # (signature, what)
        cs, ws = set(c_all[1]), set(w_all[1])
        for s in sorted(ws - cs):
            divs.append((s, "allmatch: ward only"))
        for s in sorted(cs - ws):
            divs.append((s, "allmatch: clamscan only"))
        if not cs and not ws and c_all[0] != w_all[0]:
            divs.append(("<" + w_all[0] + ">", "allmatch status: ward %s, clamscan %s" % (w_all[0], c_all[0])))
        c_inf = c_first[0] == "FOUND"
        w_inf = w_first[0] == "FOUND"
        if c_inf != w_inf:
            sig = (w_first[1] or c_first[1] or ["<" + w_first[0] + ">"])[0]
            divs.append((sig, "first-match verdict: ward %s, clamscan %s" % (
                w_first[0] + (" " + ",".join(w_first[1]) if w_first[1] else ""),
                c_first[0] + (" " + ",".join(c_first[1]) if c_first[1] else ""))))
        elif w_inf:
            if len(w_first[1]) != 1:
                divs.append((w_first[1][0], "first-match: ward printed %d names" % len(w_first[1])))
            elif w_first[1][0] not in cs:
                divs.append((w_first[1][0], "first-match: name not among clamscan's --allmatch names"))
        elif w_first[0] != c_first[0]:
            divs.append(("<" + w_first[0] + ">", "first-match status: ward %s, clamscan %s" % (w_first[0], c_first[0])))

        if not divs:
            npass += 1
            if not a.quiet_pass:
                print("PASS %s" % f)
            continue
        bad = False
        for sig, what in divs:
            e = allowed(f, sig)
            rec = (f, sig, what, sorted(ws), sorted(cs), e)
            if e:
                known.append(rec)
            else:
                unexplained.append(rec)
                bad = True
        if bad:
            nfail += 1
            print("FAIL %s" % f)
        else:
            nknown += 1
            print("PASS %s (known divergence)" % f)

    if a.quiet_pass:
        print("(%d PASS lines not printed)" % npass)

    if a.manifest and os.path.exists(a.manifest):
        # Generator sanity: how well the generated samples hit the oracle.
        stats = {}
        with open(a.manifest, encoding="utf-8") as fh:
            for line in fh:
                p = line.rstrip("\n").split("\t")
                if len(p) < 3:
                    continue
                rel, kind, sig = p[0], p[1], p[2]
                names = set(ca.get(rel, ("", []))[1])
                hit = any(n == sig or n == sig + ".UNOFFICIAL" for n in names)
                k = (kind, hit)
                stats[k] = stats.get(k, 0) + 1
        print("generator sanity (clamscan): positives detected %d, missed %d; "
              "near-misses clean of their signature %d, still detected %d" % (
                  stats.get(("pos", True), 0), stats.get(("pos", False), 0),
                  stats.get(("neg", False), 0), stats.get(("neg", True), 0)))

    if known:
        print("\nKnown divergences (allow-listed, see docs/compat.md):")
        for f, sig, what, w, c, e in known:
            print("  KNOWN %s: %s [%s] -- %s" % (f, sig, what, e["reason"]))
    if unexplained:
        print("\nMismatches:")
        for f, sig, what, w, c, e in unexplained:
            print("  MISMATCH %s: %s [%s]\n      ward: %s\n      clamscan: %s" % (
                f, sig, what, " ".join(w) or "-", " ".join(c) or "-"))
    stale = [e for e in allow if e["used"] == 0]
    for e in stale:
        print("STALE ALLOW-LIST ENTRY (line %d: %s %s) no longer diverges: remove it "
              "and its docs/compat.md text" % (e["line"], e["glob"], e["sig"]))
    print("%s: %d files compared, %d known divergences, %d unexplained divergences" % (
        a.corpus, len(files), len(known), len(unexplained)))
    # a stale or malformed allow-list entry counts as one failed case
    print("%d passed, %d failed" % (npass + nknown, nfail + len(stale) + len(errors)))
    sys.exit(1 if (nfail or stale or errors) else 0)


if __name__ == "__main__":
    main()
