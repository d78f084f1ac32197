"""Run one tool once under /usr/bin/time and collect what it reported.

Every tool's output is reduced to the set of detected paths (relative to the
corpus root), so the runner can compare detections across tools whose output
formats differ (clamscan/ward: "PATH: NAME FOUND"; yara: "RULE PATH").
"""

import os
import shutil
import subprocess
from dataclasses import dataclass, field

GNU_TIME = "/usr/bin/time"


@dataclass
class Run:
    tool: str
    wall: float = 0.0          # seconds, from GNU time's %e
    rss_kb: int = 0            # peak resident set size, GNU time's %M
    cpu: float = 0.0           # user + system seconds
    status: int = 0            # the tool's exit status
    error: str = ""            # non-empty when the tool refused or failed
    found: set = field(default_factory=set)  # detected paths, relative
    skipped: bool = False      # not run: the time budget was spent


# Exit statuses that mean "scanned and found something", not failure.
_FOUND_STATUS = {"ward": {0, 1}, "clamscan": {0, 1}, "yara": {0}, "cat": {0}, "sha256sum": {0}}


def tool_family(tool):
    return tool.split("-")[0]


def _parse_found(family, text, root):
    found = set()
    for line in text.splitlines():
        if family in ("ward", "clamscan"):
            if not line.endswith(" FOUND"):
                continue
            path = line[: line.rfind(": ")]
        elif family == "yara":
            _, _, path = line.partition(" ")
            if not path:
                continue
        else:
            continue
        found.add(_relative(path, root))
    return found


def _relative(path, root):
    if os.path.isfile(root):
        return os.path.basename(path)
    return os.path.relpath(path, root)


def run(tool, argv, root, tmpdir, env=None):
    """Run argv (whose stdout we parse for detections) and time it."""
    timef = os.path.join(tmpdir, "time.txt")
    outf = os.path.join(tmpdir, "stdout.txt")
    errf = os.path.join(tmpdir, "stderr.txt")
    r = Run(tool)
    with open(outf, "wb") as out, open(errf, "wb") as err:
        p = subprocess.run([GNU_TIME, "-f", "%e %M %U %S", "-o", timef] + argv,
                           stdout=out, stderr=err, env=env)
    r.status = p.returncode
    try:
        # GNU time writes "Command exited with non-zero status N" first when
        # the tool failed; the figures are always on the last line.
        last = open(timef).read().strip().splitlines()[-1].split()
        r.wall, r.rss_kb, r.cpu = float(last[0]), int(last[1]), float(last[2]) + float(last[3])
    except (OSError, IndexError, ValueError):
        r.error = "no timing (GNU time failed)"
    fam = tool_family(tool)
    if r.status > 128:
        # GNU time exits 128 + N when the tool died of signal N.
        r.error = "crashed (signal %d)" % (r.status - 128)
    elif r.status not in _FOUND_STATUS.get(fam, {0}):
        tail = open(errf, errors="replace").read().strip().splitlines()[-3:]
        r.error = "exit %d: %s" % (r.status, " | ".join(tail)[:300])
    r.found = _parse_found(fam, open(outf, errors="replace").read(), root)
    return r


def which(cmd):
    """Absolute path of cmd or None: a missing tool becomes a row in the
    table, not a crash."""
    if os.path.sep in cmd:
        return cmd if os.access(cmd, os.X_OK) else None
    return shutil.which(cmd)
