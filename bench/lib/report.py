"""Turn the runs into bench/results/<name>.md, .json and a gnuplot chart."""

import json
import os
import subprocess

MiB = 1 << 20
NOISY_SCAN_S = 0.25
CORPUS_TITLES = {"real": "(a) real files", "small": "(b) small files", "big": "(c) one big file"}


class Cell:
    """The best of the runs of one tool on one corpus with one set."""

    def __init__(self, runs, load_runs, nbytes, nfiles):
        good = [r for r in runs if not r.error]
        self.error = next((r.error for r in runs if r.error), "")
        self.ok = bool(good)
        best = min(good, key=lambda r: r.wall) if good else runs[0]
        self.wall = best.wall
        self.rss_kb = max(r.rss_kb for r in runs)
        self.found = best.found
        loads = [r.wall for r in load_runs if not r.error]
        self.load = min(loads) if loads else 0.0
        # GNU time has 10 ms resolution: never divide by less.
        self.scan = max(self.wall - self.load, 0.01)
        self.cpu = best.cpu
        # A scan time this short is mostly timer resolution and load-time
        # noise: its throughput is shown, but marked.
        self.noisy = self.scan < NOISY_SCAN_S
        self.mbs = nbytes / 1e6 / self.scan
        self.fps = nfiles / self.scan


def _fmt(x, nd=1):
    if x is None:
        return "-"
    if x >= 100:
        return "%.0f" % x
    return ("%." + str(nd) + "f") % x


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def _short_error(e):
    if e.startswith("skipped"):
        return "skipped"
    return "**%s**" % e.split(":")[0]


def _rfmt(r):
    return "-" if r is None else "%.2fx" % r


class Results:
    def __init__(self, runs, sets, tools, stats, machine, profile, errors, threads):
        self.runs, self.sets, self.tools, self.stats = runs, sets, tools, stats
        self.machine, self.profile, self.errors, self.threads = machine, profile, errors, threads
        self.tn = "%dt" % threads
        self.cells = {}
        for (c, s, t), rs in runs.items():
            if c == "load":
                continue
            nfiles, nbytes = stats[c]
            # The N-thread variants were not load-timed: loading does not
            # depend on the scanning threads, so they use the 1-thread figure.
            fam = t.split("-")[0]
            load = runs.get(("load", s, fam + "-1t"), []) if fam in ("ward", "yara") else runs.get(("load", s, t), [])
            self.cells[(c, s, t)] = Cell(rs, load, nbytes, nfiles)
        self.loads = {(s, t): Cell(rs, [], 1, 1) for (c, s, t), rs in runs.items() if c == "load"}

    def get(self, c, s, t, attr="mbs"):
        cell = self.cells.get((c, s, t))
        if cell is None or not cell.ok:
            return None
        return getattr(cell, attr)

    def _scanner_tools(self):
        return [t for t in self.tools if t not in ("cat", "sha256sum")]

    # ------------------------------------------------------------ markdown

    def _corpus_table(self, c, unit):
        attr = "mbs" if unit == "MB/s" else "fps"
        tools = self._scanner_tools()
        out = ["| set | " + " | ".join("%s %s" % (t, unit) for t in tools) +
               " | Ward/clamscan | Ward/yara | ward %s/1t |" % self.tn,
               "|---" * (len(tools) + 4) + "|"]
        for s in self.sets:
            if s.get("load_only"):
                continue
            vals = []
            for t in tools:
                cell = self.cells.get((c, s["name"], t))
                if cell is None:
                    vals.append("n/a")
                elif not cell.ok:
                    vals.append(_short_error(cell.error))
                else:
                    vals.append(("~" if cell.noisy else "") + _fmt(getattr(cell, attr)))
            w1 = self.get(c, s["name"], "ward-1t", attr)
            wn = self.get(c, s["name"], "ward-" + self.tn, attr)
            cl = self.get(c, s["name"], "clamscan", attr)
            y1 = self.get(c, s["name"], "yara-1t", attr)
            out.append("| %s | %s | %s | %s | %s |" % (s["name"], " | ".join(vals), _rfmt(_ratio(w1, cl)),
                                                      _rfmt(_ratio(w1, y1)), _rfmt(_ratio(wn, w1))))
        refs = []
        for t in ("cat", "sha256sum"):
            v = self.get(c, "-", t, attr)
            refs.append("%s %s %s" % (t, _fmt(v), unit))
        out.append("")
        out.append("Physical references over the same corpus: " + ", ".join(refs) + ". "
                   "~: scan time under %.2f s, mostly noise." % NOISY_SCAN_S)
        return out

    def _details(self):
        out = ["| corpus | set | tool | wall s | cpu s | load s | scan s | MB/s | files/s | peak RSS MiB | detected | note |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for (c, s, t), cell in sorted(self.cells.items(), key=lambda kv: (list(CORPUS_TITLES).index(kv[0][0]),
                                                                          self._set_index(kv[0][1]), kv[0][2])):
            if cell.error.startswith("skipped"):
                continue
            out.append("| %s | %s | %s | %.2f | %.2f | %.2f | %.2f | %s | %s | %d | %s | %s |" % (
                c, s, t, cell.wall, cell.cpu, cell.load, cell.scan, _fmt(cell.mbs), _fmt(cell.fps), cell.rss_kb // 1024,
                len(cell.found) if t not in ("cat", "sha256sum") else "-", cell.error or ""))
        return out

    def _set_index(self, name):
        for i, s in enumerate(self.sets):
            if s["name"] == name:
                return i
        return -1

    def _load_table(self):
        cols = [("ward-cold", "Ward, compiling"), ("ward-1t", "Ward, cached"), ("clamscan", "clamscan"),
                ("yara-1t", "yara")]
        out = ["| set | " + " | ".join("%s s | MiB" % title for _, title in cols) +
               " | Ward/clamscan (compiling) | Ward/clamscan (cached) |",
               "|---" * (2 * len(cols) + 3) + "|"]
        for s in self.sets:
            row = []
            for t, _ in cols:
                cell = self.loads.get((s["name"], t))
                if cell is None:
                    row += ["n/a", "n/a"]
                elif not cell.ok:
                    row += [_short_error(cell.error), "-"]
                else:
                    row += ["%.2f" % cell.wall, "%d" % (cell.rss_kb // 1024)]
            cl = self._load_wall(s["name"], "clamscan")
            out.append("| %s | %s | %s | %s |" % (s["name"], " | ".join(row),
                                                  _rfmt(_ratio(self._load_wall(s["name"], "ward-cold"), cl)),
                                                  _rfmt(_ratio(self._load_wall(s["name"], "ward-1t"), cl))))
        return out

    def _load_wall(self, sname, tool):
        cell = self.loads.get((sname, tool))
        return cell.wall if cell and cell.ok else None

    def targets(self):
        """The issue's targets, each with the measured figure. Measured,
        reported, never asserted."""
        gen = [s for s in self.sets if "yara" in s]
        small, large = (gen[0]["name"], gen[-1]["name"]) if gen else (None, None)
        rows = []

        def add(what, value, goal, passed, detail=""):
            rows.append((what, value, goal, passed, detail))

        for sname in ("main.ldb", "main.hdb+daily.ndb+rfxn", "real all"):
            r = _ratio(self.get("real", sname, "ward-1t"), self.get("real", sname, "clamscan"))
            add("(a) %s, 1 thread: Ward / clamscan MB/s" % sname, r, ">= 10x", r is not None and r >= 10)
        r = _ratio(self.get("real", "real all", "ward-" + self.tn), self.get("real", "real all", "ward-1t"))
        add("(a) real all: Ward %s / Ward 1t" % self.tn, r, ">= 1.8x", r is not None and r >= 1.8)
        if large:
            r = _ratio(self.get("real", large, "ward-1t"), self.get("real", large, "clamscan"))
            add("(a) %s: Ward / clamscan (1 thread)" % large, r, ">= 10x", r is not None and r >= 10)
            r = _ratio(self.get("real", large, "ward-1t"), self.get("real", large, "yara-1t"))
            add("(a) %s: Ward / yara (1 thread)" % large, r, ">= 3x", r is not None and r >= 3)
            r = _ratio(self.get("real", small, "ward-1t"), self.get("real", large, "ward-1t"))
            add("(a) Ward MB/s %s / %s" % (small, large), r, "<= 2x", r is not None and r <= 2)
        # Memory linear in the signature count: the RSS added per signature
        # from the middle to the largest set must not exceed twice that from
        # the smallest to the middle one (a superlinear structure would).
        if len(gen) >= 3:
            rss = [self.loads.get((s["name"], "ward-1t")) for s in gen]
            if not all(c and c.ok for c in rss):
                add("Ward load RSS per body signature (linear)", None, "<= 2x (linear)", False)
            else:
                n = [s["count"] for s in gen]
                k1 = (rss[1].rss_kb - rss[0].rss_kb) * 1024 / (n[1] - n[0])
                k2 = (rss[2].rss_kb - rss[1].rss_kb) * 1024 / (n[2] - n[1])
                add("Ward load RSS per body signature, %s->%s vs %s->%s" % (gen[0]["name"], gen[1]["name"],
                                                                           gen[1]["name"], gen[2]["name"]),
                    _ratio(k2, k1), "<= 2x (linear)", k1 > 0 and k2 <= 2 * k1,
                    "%.0f vs %.0f bytes/signature" % (k1, k2))
        lset = "main.ldb+main.hdb+daily.ndb"
        cl = self._load_wall(lset, "clamscan")
        for t, how in (("ward-cold", "compiling"), ("ward-1t", "from Ward's compiled cache")):
            w = self._load_wall(lset, t)
            r = _ratio(w, cl)
            add("load %s (%s): Ward / clamscan time" % (lset, how), r, "<= 0.33x", r is not None and r <= 1 / 3,
                "%.2f s vs %.2f s" % (w, cl) if r is not None else "")
        for sname in ("real all",):
            w = self.cells.get(("real", sname, "ward-1t"))
            cl = self.cells.get(("real", sname, "clamscan"))
            if w and cl and w.ok and cl.ok:
                r = w.rss_kb / cl.rss_kb
                add("(a) %s peak RSS: Ward 1t / clamscan" % sname, r, "<= 1x", r <= 1,
                    "%d MiB vs %d MiB" % (w.rss_kb // 1024, cl.rss_kb // 1024))
        for sname in ("real all", large):
            r = _ratio(self.get("small", sname, "ward-1t", "fps"), self.get("small", sname, "clamscan", "fps"))
            add("(b) %s: Ward / clamscan files/s (1 thread)" % sname, r, ">= 5x", r is not None and r >= 5)
        return rows

    def markdown(self):
        m = self.machine
        out = ["# Ward benchmark (%s)" % self.profile, "",
               "%s; %s, %s cores, Linux %s; ward %s (commit %s); %s; yara %s." % (
                   m["date"], m["cpu"], m["cores"], m["kernel"], m["ward"], m["ward_commit"], m["clamscan"], m["yara"]),
               "Machine load during the run: %s." % m.get("loadavg", "?"),
               "Generated by `bench/run%s` (see docs/bench.md for the method)." % (" --quick" if self.profile == "quick" else ""),
               "", "| corpus | files | MiB |", "|---|---|---|"]
        for c, title in CORPUS_TITLES.items():
            n, b = self.stats[c]
            out.append("| %s | %d | %.0f |" % (title, n, b / MiB))
        out += ["", "Throughput = corpus bytes (or files) / (wall time - that tool's load time for the set); "
                "best of the runs; warm page cache; `-t` = scanning threads. Ratios use the 1-thread figures.", ""]
        out += ["## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
        for what, value, goal, passed, detail in self.targets():
            v = "-" if value is None else "%.2fx" % value
            if detail:
                v += " (%s)" % detail
            met = "not measured" if value is None else ("yes" if passed else "**no**")
            out.append("| %s | %s | %s | %s |" % (what, v, goal, met))
        for c, title in CORPUS_TITLES.items():
            unit = "files/s" if c == "small" else "MB/s"
            out += ["", "## Corpus %s: %s" % (title, unit), ""] + self._corpus_table(c, unit)
        out += ["", "## Database load (one tiny file)", ""] + self._load_table()
        out += ["", "## Detections", ""]
        if self.errors:
            out.append("**The tools disagree:**")
            out += ["- " + e for e in self.errors]
        else:
            out.append("Every tool reported every planted file of each set, and all tools reported the same files.")
        out += ["", "## Every run", ""] + self._details()
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------ output

    def to_json(self):
        return {
            "machine": self.machine, "profile": self.profile, "errors": self.errors, "stats": self.stats,
            "cells": [{"corpus": c, "set": s, "tool": t, "wall": x.wall, "load": x.load, "scan": x.scan,
                       "mbs": x.mbs, "fps": x.fps, "rss_kb": x.rss_kb, "error": x.error, "detected": len(x.found)}
                      for (c, s, t), x in sorted(self.cells.items())],
            "loads": [{"set": s, "tool": t, "wall": x.wall, "rss_kb": x.rss_kb, "error": x.error}
                      for (s, t), x in sorted(self.loads.items())],
        }

    def chart(self, png, tmpdir):
        """Three panels (one per corpus): clustered bars of throughput per
        tool for each set, log scale (the tools differ by orders of magnitude)."""
        tools = self._scanner_tools()
        sets = [s["name"] for s in self.sets if not s.get("load_only")]
        script = ["set terminal pngcairo size 1400,1300 font ',10'", "set output '%s'" % png,
                  "set multiplot layout 3,1", "set style data histograms", "set style histogram clustered gap 1",
                  "set style fill solid 0.85 border -1", "set grid ytics",
                  "set key outside right top", "set xtics rotate by -20", "set datafile missing '?'"]
        for c, title in CORPUS_TITLES.items():
            unit, attr = ("files/s", "fps") if c == "small" else ("MB/s", "mbs")
            dat = os.path.join(tmpdir, "chart-%s.dat" % c)
            with open(dat, "w") as f:
                f.write("set " + " ".join(tools) + "\n")
                for s in sets:
                    vals = [self.get(c, s, t, attr) for t in tools]
                    f.write('"%s" %s\n' % (s, " ".join("?" if v is None else "%.3f" % v for v in vals)))
            refs = ", ".join("%s %s" % (t, _fmt(self.get(c, "-", t, attr))) for t in ("cat", "sha256sum"))
            script.append("set title 'Corpus %s: %s (higher is better; %s)'" % (title, unit, refs))
            script.append("set ylabel '%s'" % unit)
            # gnuplot stops on a column without a single value (a tool
            # skipped or missing everywhere): plot only the tools that ran.
            cols = [i for i, t in enumerate(tools) if any(self.get(c, s, t, attr) is not None for s in sets)]
            if cols:
                script.append("set logscale y")
                script.append("plot " + ", ".join("'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2, i + 2)
                                                  for i in cols))
            else:
                script += ["unset logscale y", "set yrange [0:1]",
                           "set label 1 'no runs (skipped or missing)' at graph 0.4, graph 0.5",
                           "plot -1 notitle", "unset label 1", "set yrange [*:*]"]
        script.append("unset multiplot")
        gp = os.path.join(tmpdir, "chart.gp")
        with open(gp, "w") as f:
            f.write("\n".join(script) + "\n")
        try:
            p = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
        except OSError:
            return "gnuplot missing: no chart"
        return "" if p.returncode == 0 else "gnuplot failed: " + p.stderr.strip()[:300]

    def write(self, md_path, png_path, json_path, tmpdir):
        err = self.chart(str(png_path), tmpdir)
        md = self.markdown()
        if err:
            md += "\n(%s)\n" % err
        else:
            md += "\n![throughput per tool and signature set](%s)\n" % os.path.basename(str(png_path))
        md_path.write_text(md)
        json_path.write_text(json.dumps(self.to_json(), indent=1))
        return md
