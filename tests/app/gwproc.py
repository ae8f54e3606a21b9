# SPDX-License-Identifier: BSD-3-Clause
"""What the app tests share: frame building blocks, the stats file and
its one-fate law, and how an espgw they started is stopped and what its
stopping must show (exit 0 on SIGINT, no sanitizer report on stderr: the
sanitizer leg runs them against an ASan build)."""

import re
import shutil
import signal
import struct
import subprocess
import time

SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer|"
                       r"ERROR: UndefinedBehaviorSanitizer")


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def cksum(b):
    """The Internet checksum of b (RFC 1071), an odd length padded."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def read_stats(path):
    """espgw's --stats-file: one "name value" a line."""
    stats = {}
    with open(path) as fp:
        for line in fp:
            k, v = line.split()
            stats[k] = int(v)
    return stats


def counter_sides(espgw):
    """{stats-file name: side} as the espgw binary prints them (espgw
    --counters; app/dataplane/counters.h): "in", "out" or "event" for
    gw.<counter>, "reason" for esp.<reason>, each ESP drop reason."""
    out = subprocess.run([espgw, "--counters"], capture_output=True, text=True,
                         check=True).stdout
    sides = dict(line.split() for line in out.splitlines())
    if "gw.rx" not in sides or set(sides.values()) != {"in", "out", "event", "reason"}:
        raise ValueError("%s --counters: %r" % (espgw, out[:200]))
    return sides


def fates(st, sides):
    """One packet, one fate (app/dataplane/counters.h): the "in" and the
    "out" counters of a stats file (st, read_stats), as two lists of
    names, and what the stats file and the sides disagree on (a gw.* or
    esp.* counter with no side, a side with no counter). The law holds
    when both lists sum to the same and nothing disagrees."""
    ins = [k for k, s in sides.items() if s == "in"]
    outs = [k for k, s in sides.items() if s == "out"]
    why = ["%s: not in espgw --counters" % k
           for k in sorted(st) if k.startswith(("gw.", "esp.")) and k not in sides]
    why += ["no %s in the stats file" % k for k in sides if k not in st]
    return ins, outs, why


def wait_running(proc, out_path, fail, timeout=60):
    """Wait until espgw says "running" on its stdout (the file out_path);
    raise fail when it exits first or is not running within timeout
    seconds (ASan on a loaded machine starts slowly)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise fail("espgw exited %d at start" % proc.returncode)
        with open(out_path) as fp:
            if "running" in fp.read():
                return
        if time.monotonic() > deadline:
            raise fail("espgw did not start within %d s" % timeout)
        time.sleep(0.05)


def stop(proc, prefix, stderr_text, timeout=120):
    """SIGINT proc (if it still runs), wait at most timeout seconds, then
    remove its EAL runtime directory. stderr_text: a function giving
    espgw's stderr once it stopped. Returns (complaints, stderr)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = "killed (no exit within %d s of SIGINT)" % timeout
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
    err = stderr_text()
    why = []
    if rc != 0:
        why.append("espgw exited %s" % rc)
    bad = [l for l in err.splitlines() if SANITIZER.search(l)]
    if bad:
        why.append("sanitizer report on espgw's stderr: " + "; ".join(bad[:5]))
    return why, err


def report(run, args, fail, title):
    """Run run(args) (a list of complaints, or raising fail), print the
    complaints and the TAP line of the test; the exit status."""
    try:
        why = run(args)
    except fail as e:
        why = [str(e)]
    for w in why:
        print("#   " + w)
    print(("ok" if not why else "not ok") + " - " + title)
    return 0 if not why else 1
