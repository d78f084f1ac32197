#!/usr/bin/env python3
"""`make bench` / `make bench-quick`: Ward against clamscan and yara.

Steps:
  1. build (once) the corpora and signature sets into the cache directory;
  2. measure the database load time of every tool and set (each tool on one
     tiny file with the set loaded);
  3. scan every corpus with every tool and set, the tools alternating run by
     run so a slow phase of the machine does not fall on one tool only;
     cat and sha256sum over the same corpus give the physical floor;
  4. check that every tool reported the planted files, and the same files;
  5. write the Markdown table, the JSON figures and the chart.

Throughput is (wall time on the corpus - load time) against the corpus size.
"""

import argparse
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from gen import corpus, sigs  # noqa: E402
from lib import measure, report  # noqa: E402

# Bump when a generator changes what it writes: the cache is rebuilt.
GEN_VERSION = 1
MiB = 1 << 20
SEED = 20240601

# What each profile builds and runs. "quick" runs the same code paths on
# corpora about 32 times smaller and sets 10 times smaller.
PROFILES = {
    "full": {
        "budgets_mib": {"elf": 300, "pe": 300, "text": 150, "docs": 110, "archives": 140},
        "small_files": 20000,
        "big_bytes": 1 << 30,
        "body_counts": [1000, 10000, 100000],
        "hash_count": 1000000,
        "plant_real": {"gen": 20, "ndb": 10, "ldb": 10, "hash": 10},
        "plant_small": {"gen": 10, "ndb": 5, "ldb": 5, "hash": 5},
        "reps": 1,
        # Seconds of measuring (the first run also builds the cache, about
        # 3 minutes): `make bench` must end within 30 minutes.
        "budget_s": 1500,
    },
    "quick": {
        "budgets_mib": {"elf": 10, "pe": 10, "text": 5, "docs": 3, "archives": 4},
        "small_files": 1000,
        "big_bytes": 32 * MiB,
        "body_counts": [100, 1000, 10000],
        "hash_count": 100000,
        "plant_real": {"gen": 5, "ndb": 3, "ldb": 3, "hash": 3},
        "plant_small": {"gen": 3, "ndb": 2, "ldb": 2, "hash": 2},
        "reps": 1,
        "budget_s": 120,
    },
}

REAL_FILES = ["main.ldb", "main.hdb", "daily.ndb", "rfxn.ndb", "rfxn.hdb"]


def log(msg):
    print(msg, flush=True)


def human_count(n):
    for div, suffix in ((1000000, "M"), (1000, "k")):
        if n >= div and n % div == 0:
            return "%d%s" % (n // div, suffix)
    return str(n)


def signature_sets(prof):
    """The sets every corpus is scanned with, in table order. kinds: which
    planted files the set must detect."""
    real = ["real/" + f for f in REAL_FILES]
    out = [
        {"name": "main.ldb", "db": ["real/main.ldb"], "kinds": ["ldb"], "real": True},
        {"name": "main.hdb+daily.ndb+rfxn", "db": ["real/main.hdb", "real/daily.ndb", "real/rfxn.ndb", "real/rfxn.hdb"],
         "kinds": ["ndb"], "real": True},
        {"name": "real all", "db": real, "kinds": ["ldb", "ndb"], "real": True},
    ]
    for n in prof["body_counts"]:
        out.append({"name": "gen %s body" % human_count(n), "db": ["gen/body-%d.ndb" % n],
                    "yara": "gen/body-%d.yar" % n, "kinds": ["gen"], "count": n})
    n = prof["hash_count"]
    out.append({"name": "gen %s md5" % human_count(n), "db": ["gen/hash-%d.hdb" % n], "kinds": ["hash"], "count": n})
    return out


# The set of the load-time target (main.ldb + main.hdb + daily.ndb): measured
# for load only.
LOAD_SET = {"name": "main.ldb+main.hdb+daily.ndb", "db": ["real/main.ldb", "real/main.hdb", "real/daily.ndb"],
            "kinds": [], "real": True, "load_only": True}


# ---------------------------------------------------------------- building


def build_cache(root, prof, shared_sigs):
    """Build corpora and sets into root (via root.tmp, renamed at the end so
    an interrupted build never leaves a cache that looks complete)."""
    tmp = root.with_name(root.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.time()
    log("building the benchmark cache in %s (once)" % root)
    sigs.unpack_real_sets(shared_sigs, tmp / "sets" / "real")

    # Generated body sets: one stream, each set a prefix of the largest.
    counts = prof["body_counts"]
    body = sigs.generate_body_sigs(max(counts), SEED)
    gen = tmp / "sets" / "gen"
    gen.mkdir(parents=True)
    for n in counts:
        sigs.write_ndb(body[:n], gen / ("body-%d.ndb" % n))
        sigs.write_yara(body[:n], tmp / "sets" / "gen" / ("body-%d.yar" % n))
    log("  generated body sets %s (%.0f s)" % (counts, time.time() - t0))

    def payloads(plan, seed):
        """Rendered signature bytes per planted kind. Generated signatures
        are drawn from the smallest set, so every generated set detects them."""
        rng = random.Random(seed)
        real = tmp / "sets" / "real"
        ndb = sigs.pick_real_ndb(real / "daily.ndb", 1, seed) + sigs.pick_real_ndb(real / "rfxn.ndb", plan["ndb"] - 1, seed)
        return {
            "gen": [body[i].render(rng) for i in rng.sample(range(min(counts)), plan["gen"])],
            "ndb": [b for _, b in ndb],
            "ldb": [b for _, b in sigs.pick_real_ldb(real / "main.ldb", plan["ldb"], seed)],
            "hash": [None] * plan["hash"],
        }

    cdir = tmp / "corpus"
    budgets = {k: v * MiB for k, v in prof["budgets_mib"].items()}
    log("  corpus (a): real files")
    man_a, hashes_a, pool = corpus.build_real(cdir / "real", budgets, payloads(prof["plant_real"], SEED + 1), SEED + 2, log)
    log("  corpus (b): %d small files" % prof["small_files"])
    man_b, hashes_b = corpus.build_small(cdir / "small", prof["small_files"], pool,
                                         payloads(prof["plant_small"], SEED + 3), SEED + 4)
    log("  corpus (c): one file of %d MiB" % (prof["big_bytes"] // MiB))
    big = payloads({"gen": 1, "ndb": 1, "ldb": 1, "hash": 0}, SEED + 5)
    md5_c = corpus.build_big(cdir / "big.bin", prof["big_bytes"], pool, big, SEED + 6)

    n = prof["hash_count"]
    sigs.write_hdb(n, SEED + 7, hashes_a + hashes_b + [md5_c], tmp / "sets" / "gen" / ("hash-%d.hdb" % n))
    manifest = {"real": man_a, "small": man_b,
                "big": {k: ["big.bin"] for k in ("gen", "ndb", "ldb", "hash")}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    (tmp / "stamp.json").write_text(json.dumps(stamp(prof)))
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    log("  cache built in %.0f s" % (time.time() - t0))


def stamp(prof):
    """What the cache content depends on (not how it is measured)."""
    built = {k: v for k, v in prof.items() if k not in ("reps", "budget_s")}
    return {"version": GEN_VERSION, "seed": SEED, "profile": built}


def cache_ready(root, prof):
    try:
        return json.loads((root / "stamp.json").read_text()) == json.loads(json.dumps(stamp(prof)))
    except (OSError, ValueError):
        return False


# ---------------------------------------------------------------- measuring


def tool_table(ward, threads):
    """Every tool variant: name -> how to build its command line. A tool
    whose program is missing stays in the table, marked missing."""
    clam = measure.which("clamscan")
    yara = measure.which("yara")
    big = ["--max-filesize", "2000M", "--max-scansize", "2000M"]

    def ward_cmd(n):
        # -i: print detections only, as for clamscan (printing 20,000 "OK"
        # lines is not what is measured). Limits raised so the 1 GiB file is
        # scanned whole (clamscan's MaxFileSize ceiling is 2 GB).
        return lambda s, dbs, path: [ward, "scan", "-r", "-i", "--no-summary", "--threads", str(n)] + big + \
            [a for d in dbs for a in ("-d", d)] + [path]

    def yara_cmd(n):
        # -w: no warnings; -p: scanning threads. yara has no size limit.
        return lambda s, dbs, path: [yara, "-w", "-r", "-p", str(n), s["yara_path"], path]

    tools = {
        "ward-1t": {"prog": ward, "cmd": ward_cmd(1)},
        "ward-%dt" % threads: {"prog": ward, "cmd": ward_cmd(threads)},
        "clamscan": {"prog": clam, "cmd": lambda s, dbs, path: [clam, "-r", "-i", "--no-summary",
                                                                  "--max-filesize=2000M", "--max-scansize=2000M"] +
                     ["--database=" + d for d in dbs] + [path]},
        "yara-1t": {"prog": yara, "cmd": yara_cmd(1), "needs": "yara"},
        "yara-%dt" % threads: {"prog": yara, "cmd": yara_cmd(threads), "needs": "yara"},
    }
    return tools


def reference_cmd(name, path):
    """cat and sha256sum read every byte of the corpus: the floor that a
    scanner reading the same files cannot beat."""
    prog = "cat" if name == "cat" else "sha256sum"
    return ["sh", "-c", 'find "$1" -type f -print0 | xargs -0 %s > /dev/null' % prog, "sh", path]


class Bench:
    def __init__(self, args, prof, cache, tmpdir):
        self.args, self.prof, self.cache, self.tmpdir = args, prof, cache, tmpdir
        self.threads = os.cpu_count() or 1
        self.tools = tool_table(args.ward, self.threads)
        self.sets = signature_sets(prof)
        for s in self.sets + [LOAD_SET]:
            s["paths"] = [str(cache / "sets" / d) for d in s["db"]]
            if "yara" in s:
                s["yara_path"] = str(cache / "sets" / s["yara"])
        self.manifest = json.loads((cache / "manifest.json").read_text())
        self.corpora = {
            "real": str(cache / "corpus" / "real"),
            "small": str(cache / "corpus" / "small"),
            "big": str(cache / "corpus" / "big.bin"),
        }
        self.runs = {}  # (corpus, set, tool) -> [measure.Run]
        self.tiny = os.path.join(tmpdir, "tiny.txt")
        with open(self.tiny, "w") as f:
            f.write("ward-bench: a tiny clean file for load-time runs\n")
        # A private compiled-database cache for Ward: the user's own
        # (~/.cache/ward) neither helps nor is touched.
        self.env = dict(os.environ, LC_ALL="C", WARD_CACHE_DIR=os.path.join(tmpdir, "ward-cache"))
        self.nruns = 0

    def applicable(self, tool, s):
        t = self.tools[tool]
        return not (t.get("needs") == "yara" and "yara" not in s)

    def one(self, corpus_name, s, tool, path, label=None, env=None, record=True):
        """Run `tool` (a key of self.tools, or cat/sha256sum) once; record it
        under `label` (default: the tool's name)."""
        label = label or tool
        key = (corpus_name, s["name"], label)
        # A run is not started when the same tool's slowest pass over this
        # corpus so far would end past the budget: one 4-minute clamscan
        # started at the last second would blow `make bench`'s 30 minutes.
        expected = self.slowest.get((corpus_name, label), 0.0)
        if time.time() - self.t0 + expected > self.budget:
            # Recorded, so the table says "skipped" instead of leaving a hole.
            self.runs.setdefault(key, []).append(measure.Run(label, error="skipped (time budget)", skipped=True))
            return
        if tool in ("cat", "sha256sum"):
            argv = reference_cmd(tool, path)
        elif self.tools[tool]["prog"] is None:
            self.runs.setdefault(key, []).append(measure.Run(label, error="missing (not installed)"))
            return
        else:
            argv = self.tools[tool]["cmd"](s, s["paths"], path)
        r = measure.run(tool, argv, path, self.tmpdir, env=env or self.env)
        r.tool = label
        self.nruns += 1
        self.slowest[(corpus_name, label)] = max(self.slowest.get((corpus_name, label), 0.0), r.wall)
        if record:
            self.runs.setdefault(key, []).append(r)
        log("  %7.1fs  %-6s %-28s %-10s %7.2f s %7d MiB%s" % (
            time.time() - self.t0, corpus_name, s["name"], label if record else label + " (not kept)",
            r.wall, r.rss_kb // 1024, ("  ERROR " + r.error) if r.error else ""))

    def warm(self):
        """Read every corpus once so all tools see a warm page cache."""
        for path in self.corpora.values():
            subprocess.run(reference_cmd("cat", path), check=False)

    def plan(self):
        """(corpus, set, which tools) in priority order, so that when the time
        budget runs out (a loaded machine, clamscan's 4 minutes per GiB) it is
        the less important runs that are skipped:
          1. the cells the issue's targets need, every tool;
          2. every other cell, every tool but clamscan (the others take
             seconds to a minute per pass);
          3. clamscan on those cells, as long as the budget lasts.
        "load" cells measure the load time only."""
        names = [s["name"] for s in self.sets]
        gen = [s["name"] for s in self.sets if "yara" in s]
        first = [("real", "real all"), ("load", LOAD_SET["name"]), ("small", "real all"),
                 ("real", gen[-1]), ("real", gen[0]), ("small", gen[-1]), ("big", gen[-1]), ("big", "real all")]
        rest = [(c, n) for c in ("real", "small", "big") for n in names if (c, n) not in first]
        return ([(c, n, "all") for c, n in first] + [(c, n, "fast") for c, n in rest] +
                [(c, n, "clamscan") for c, n in rest])

    def run_cell(self, corpus_name, s, rotation, which):
        reps = self.args.reps or self.prof["reps"]
        # Load time: each tool once on a tiny file, before the set's first
        # cell. The N-thread variants share the 1-thread figure: loading does
        # not depend on the number of scanning threads.
        if s["name"] not in self.loaded:
            self.loaded.add(s["name"])
            for rep in range(reps):
                for tool in _rotate([t for t in self.load_tools if self.applicable(t, s)], rotation + rep):
                    if tool == "ward-1t":
                        # Ward keeps compiled databases in a cache (keyed by
                        # the signature files): "ward-cold" compiles with the
                        # cache off; then one run fills the benchmark's own
                        # cache and the recorded ward-1t load reads it, as
                        # every later scan of this set does.
                        self.one("load", s, tool, self.tiny, label="ward-cold", env=dict(self.env, WARD_CACHE_DIR=""))
                        if rep == 0:
                            self.one("load", s, tool, self.tiny, record=False)
                    self.one("load", s, tool, self.tiny)
        if corpus_name == "load":
            return
        path = self.corpora[corpus_name]
        if corpus_name not in self.referenced:
            self.referenced.add(corpus_name)
            for rep in range(reps):
                for tool in _rotate(["cat", "sha256sum"], rep):
                    self.one(corpus_name, {"name": "-"}, tool, path)
        tools = [t for t in self.tools if self.applicable(t, s) and
                 (which == "all" or (which == "clamscan") == (t == "clamscan"))]
        for rep in range(reps):
            for tool in _rotate(tools, rotation + rep):
                self.one(corpus_name, s, tool, path)

    def run_all(self):
        self.t0 = time.time()
        self.budget = self.args.budget or self.prof["budget_s"]
        self.loaded, self.referenced, self.slowest = set(), set(), {}
        self.load_tools = [t for t in self.tools if not t.endswith("-%dt" % self.threads) or self.threads == 1]
        self.warm()
        sets = {s["name"]: s for s in self.sets + [LOAD_SET]}
        for i, (corpus_name, sname, which) in enumerate(self.plan()):
            log("%s / %s (%s)" % (corpus_name, sname, which))
            self.run_cell(corpus_name, sets[sname], i, which)
        log("%d runs in %.0f s (budget %d s)" % (self.nruns, time.time() - self.t0, self.budget))

    # ------------------------------------------------------------ checking

    def check(self):
        """Every tool must report the planted files of the set's kinds, and
        all tools must report the same files. Returns a list of errors."""
        errors = []
        by_cell = {}
        for (c, s, tool), runs in self.runs.items():
            # A Ward run that fails is a bug to fix, not a refusal to note.
            bad = [r for r in runs if r.error and not r.skipped]
            if measure.tool_family(tool) == "ward" and bad:
                errors.append("%s / %s / %s: %s" % (c, s, tool, bad[0].error))
            if c == "load" or s == "-":
                continue
            by_cell.setdefault((c, s), {})[tool] = runs[0]
        sets = {s["name"]: s for s in self.sets}
        for (c, sname), tools in sorted(by_cell.items()):
            man = self.manifest[c]
            expected = set(p for k in sets[sname]["kinds"] for p in man.get(k, []))
            ok = {t: r for t, r in tools.items() if not r.error}
            for t, r in ok.items():
                missing = expected - r.found
                if missing:
                    errors.append("%s / %s / %s: %d planted file(s) not detected: %s" % (
                        c, sname, t, len(missing), ", ".join(sorted(missing)[:5])))
            names = sorted(ok)
            for t in names[1:]:
                a, b = ok[names[0]].found, ok[t].found
                if a != b:
                    errors.append("%s / %s: %s and %s disagree: only %s: %s; only %s: %s" % (
                        c, sname, names[0], t, names[0], ", ".join(sorted(a - b)[:5]) or "-",
                        t, ", ".join(sorted(b - a)[:5]) or "-"))
        return errors


def _rotate(items, k):
    k %= max(1, len(items))
    return items[k:] + items[:k]


def machine_info(ward):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "missing"
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
        "ward": out([ward, "--version"]), "ward_commit": out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "clamscan": out(["clamscan", "--version"]), "yara": out(["yara", "--version"]),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller corpora and sets (about 3 minutes)")
    ap.add_argument("--ward", default=os.environ.get("WARD", str(REPO / "build" / "release" / "ward")),
                    help="ward binary (default: $WARD or build/release/ward)")
    default_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ward-bench"
    ap.add_argument("--cache", default=os.environ.get("WARD_BENCH_CACHE", str(default_cache)),
                    help="cache directory for corpora and sets (default: %(default)s)")
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "sigs"), help="real signature sets (gzipped)")
    ap.add_argument("--out", default=str(BENCH / "results"), help="where the results go")
    ap.add_argument("--reps", type=int, default=0, help="runs per tool and cell (best is kept)")
    ap.add_argument("--budget", type=int, default=0,
                    help="seconds of measuring; later cells are skipped (default: the profile's)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cache even if it looks current")
    args = ap.parse_args()

    if not measure.which(args.ward):
        sys.exit("bench: ward binary %s not found: run `make build` (or pass --ward)" % args.ward)
    if not measure.which(measure.GNU_TIME):
        sys.exit("bench: %s (Debian package 'time') is needed for peak RSS" % measure.GNU_TIME)
    args.ward = os.path.abspath(args.ward)
    pname = "quick" if args.quick else "full"
    prof = PROFILES[pname]
    cache = Path(args.cache) / pname
    if cache.resolve().is_relative_to(REPO.resolve()):
        sys.exit("bench: the cache must be outside the repository (%s)" % cache)
    if args.rebuild or not cache_ready(cache, prof):
        build_cache(cache, prof, Path(args.shared))
    else:
        log("using the cached corpora and sets in %s" % cache)

    tmpdir = tempfile.mkdtemp(prefix="ward-bench-")
    # SIGTERM (make interrupted, a timeout) must still remove the temp dir.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b = Bench(args, prof, cache, tmpdir)
        load_before = os.getloadavg()
        b.run_all()
        load_after = os.getloadavg()
        errors = b.check()
        stats = {name: corpus.tree_stats(path) for name, path in b.corpora.items()}
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        base = "latest" if pname == "full" else "quick"
        info = machine_info(args.ward)
        # Other work on the machine slows every tool: say how busy it was.
        info["loadavg"] = "%.1f before, %.1f after (1-minute load average)" % (load_before[0], load_after[0])
        res = report.Results(b.runs, b.sets + [LOAD_SET], list(b.tools) + ["cat", "sha256sum"], stats,
                             info, pname, errors, b.threads)
        md = res.write(out / (base + ".md"), out / (base + ".png"), out / (base + ".json"), tmpdir)
        log("")
        log(md)
        log("results: %s" % (out / (base + ".md")))
        if errors:
            log("bench: ERROR: the tools disagree on the detections (see the table's Detections section):")
            for e in errors:
                log("  " + e)
            return 1
        return 0
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
