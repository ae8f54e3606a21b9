#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Keys stay secret in a running espgw (issue #14, docs/control.md).

One espgw on net_null ports is keyed from its configuration and live
through espgwctl (single statements, a batch, failing statements and a
failing batch that carry keys, a monitor watching all of it, SIGUSR1's
counters), then every state is flushed. Then:

- no key, as text (hex, either case) or as bytes (the whole key, or the
  AES key without its salt: the first round key of the expansion), is in
  espgw's standard output or error, its stats file, the monitor's output
  or any error espgwctl printed; only `xfrm state` listings show keys, as
  ip's do, and the test checks they do (so the search can find one);
- none is left anywhere in espgw's memory (/proc/PID/mem, every readable
  mapping but ASan's shadow) once its states are gone: freed SAs, the
  control socket's buffers, the configuration's arrays, the undo log and
  listings are wiped before they are freed;
- a peer that is not root (nor espgw's own user) is refused by the
  control socket, even when the socket file lets it connect, with the
  error ip gives without CAP_NET_ADMIN.

Usage: secrets.py --espgw PATH --espgwctl PATH
"""

import argparse
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TEST_USER = "espgw-test"


def key(i):
    """A distinct 20-byte rfc4106 key (16 AES bytes and a 4-byte salt)."""
    return bytes((0x5a ^ (i * 37 + j * 11)) & 0xff for j in range(20))


def hexkey(k):
    return "0x" + k.hex()


class Fail(Exception):
    pass


class Gateway:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.prefix = "secrets%d" % os.getpid()
        self.out_path = os.path.join(tmp, "espgw.out")
        self.stats_path = os.path.join(tmp, "stats")
        self.ctl_errors = []
        self.listings = []

    def start(self, conf):
        path = os.path.join(self.tmp, "gw.conf")
        with open(path, "w") as f:
            f.write(conf)
        cmd = [self.args.espgw, "--no-huge", "-m", "256", "-l", "0-1", "--no-pci",
               "--no-telemetry", "--file-prefix", self.prefix,
               "--log-level=lib.*:error", "--vdev", "net_null0,no-rx=1",
               "--vdev", "net_null1,no-rx=1", "--", "-f", path,
               "-s", self.stats_path, "--poll-idle-us", "100"]
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        deadline = time.time() + 60  # ASan on a loaded machine starts slowly
        while time.time() < deadline:
            with open(self.out_path) as f:
                if "running" in f.read():
                    return
            if self.proc.poll() is not None:
                raise Fail("espgw exited %d at start" % self.proc.returncode)
            time.sleep(0.1)
        raise Fail("espgw did not start")

    def ctl(self, *words, stdin=None, user=None):
        cmd = [self.args.espgwctl, "--file-prefix", self.prefix] + list(words)
        if user is not None:
            cmd = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups"] + cmd
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)
        self.ctl_errors.append(p.stderr)
        return p

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=30)
        self.out.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree("/var/run/dpdk/" + self.prefix, ignore_errors=True)


def state(spi, k, src="192.0.2.1"):
    return ("xfrm state add src %s dst 198.51.100.1 proto esp spi 0x%x reqid 1 "
            "mode tunnel aead 'rfc4106(gcm(aes))' %s 128" % (src, spi, hexkey(k)))


def needles(keys):
    """Every form a key could take in text or memory."""
    out = []
    for k in keys:
        for form in (k.hex(), k.hex().upper(), k[:16].hex()):
            out.append(form.encode())
        out += [k, k[:16]]
    return out


def scan_memory(pid, keys):
    """[(mapping, offset, which)] of every key form in pid's memory."""
    found = []
    forms = needles(keys)
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for line in maps:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            name = parts[5] if len(parts) > 5 else ""
            if "r" not in parts[1] or name in ("[vvar]", "[vsyscall]"):
                continue
            if hi - lo > 4 << 30:  # ASan's shadow: reserved, not data
                continue
            for off in range(lo, hi, 64 << 20):
                n = min(64 << 20, hi - off) + 64  # overlap the next chunk
                try:
                    mem.seek(off)
                    data = mem.read(min(n, hi - off))
                except OSError:
                    continue
                for i, form in enumerate(forms):
                    at = data.find(form)
                    if at >= 0:
                        ctx = data[max(0, at - 48):at].decode("ascii", "replace")
                        found.append((line, off + at, i, ctx))
    return found


# ASan's allocator takes malloc's place, in a region of its own
# (x86_64: kAllocatorSpace 0x600000000000, 4 TiB)
ASAN_HEAP = (0x600000000000, 0x640000000000)


def in_malloc_heap(pid, mapping, at):
    """Is at in memory malloc hands out (libc's, or ASan's), or the stack?"""
    if mapping.split()[-1] in ("[heap]", "[stack]"):
        return True
    with open("/proc/%d/maps" % pid) as f:
        asan = "libasan" in f.read()
    return asan and ASAN_HEAP[0] <= at < ASAN_HEAP[1]


def dontdump_ranges(pid):
    """[(lo, hi)] of pid's mappings marked do-not-dump (VmFlags dd)."""
    out, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                cur = tuple(int(x, 16) for x in head.split("-"))
            elif head == "VmFlags:" and "dd" in line.split()[1:]:
                out.append(cur)
    return out


def ensure_user():
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", TEST_USER], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--espgw", required=True)
    ap.add_argument("--espgwctl", required=True)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (a second user, /proc/PID/mem)")
        return 77
    keys = [key(i) for i in range(8)]
    tmp = tempfile.mkdtemp(prefix="espgw-secrets-")
    gw = Gateway(args, tmp)
    results = []

    def check(what, cond, detail=""):
        results.append(cond)
        print("%s - %s%s" % ("ok" if cond else "not ok", what,
                             "" if cond or not detail else "\n#   " + detail))

    conf = "\n".join([
        "ip link set dev net_null0 up", "ip link set dev net_null1 up",
        "ip addr add 10.0.1.1/24 dev net_null0",
        "ip addr add 192.0.2.1/24 dev net_null1",
        "ip route add default via 192.0.2.254 dev net_null1",
        "ip " + state(0x1000, keys[0]),
        "ip xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl "
        "src 192.0.2.1 dst 198.51.100.1 proto esp reqid 1 mode tunnel", ""])
    mon = None
    try:
        gw.start(conf)
        mon_out = open(os.path.join(tmp, "monitor"), "w")
        mon = subprocess.Popen([args.espgwctl, "--file-prefix", gw.prefix, "monitor"],
                               stdout=mon_out, stderr=subprocess.STDOUT)
        time.sleep(0.5)
        p = gw.ctl(*shlex.split(state(0x1001, keys[1])))
        check("a live state add", p.returncode == 0, p.stderr)
        batch = "\n".join([state(0x1002, keys[2]), state(0x1003, keys[3]), ""])
        p = gw.ctl("-batch", "-", stdin=batch)
        check("a batch of two state adds", p.returncode == 0, p.stderr)
        # refusals whose lines carry keys: the errors must not repeat them
        p = gw.ctl(*shlex.split(state(0x1001, keys[4])))
        check("a duplicate state: File exists", p.returncode == 2 and
              "File exists" in p.stderr, p.stderr)
        p = gw.ctl(*shlex.split(state(0x1004, keys[5], src="203.0.113.9")))
        check("a state with no end of ours: refused", p.returncode == 2,
              "rc %d %s" % (p.returncode, p.stderr))
        bad_key = state(0x1005, keys[6]).replace(hexkey(keys[6]), hexkey(keys[6]) + "ff")
        p = gw.ctl(*shlex.split(bad_key))
        check("a key of a bad length: refused", p.returncode != 0, p.stderr)
        batch = "\n".join([state(0x1006, keys[7]), state(0x1006, keys[7]), ""])
        p = gw.ctl("-batch", "-", stdin=batch)
        check("a failing batch: refused whole", p.returncode == 2, p.stderr)
        p = gw.ctl("xfrm", "state")
        gw.listings.append(p.stdout)
        shown = [hexkey(k) in p.stdout for k in keys[:4]]
        check("ip xfrm state lists the four states with their keys (as ip does)",
              p.returncode == 0 and all(shown), p.stdout[-400:])
        p = gw.ctl("-s", "-j", "xfrm", "state")
        gw.listings.append(p.stdout)
        gw.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.5)

        # the SAs' expanded keys (round key 0 is the AES key) live in
        # DPDK's memory, which core dumps leave out
        nodump = dontdump_ranges(gw.proc.pid)
        live = [(m, at) for m, at, i, _ in scan_memory(gw.proc.pid, keys[:4])
                if i % 5 == 4 and not in_malloc_heap(gw.proc.pid, m, at)]
        outside = [(m, at) for m, at in live
                   if not any(lo <= at < hi for lo, hi in nodump)]
        check("the SAs' keys are in DPDK memory that core dumps leave out (MADV_DONTDUMP)",
              len(live) >= 4 and not outside,
              "%d copies outside libc's heap, %d in dumped memory: %s" %
              (len(live), len(outside), "; ".join(m for m, _ in outside[:3])))

        # the peer check: a second user on a socket it may connect to
        ensure_user()
        sock = "/run/espgw/%s.sock" % gw.prefix
        mode = os.stat(sock).st_mode
        os.chmod(sock, 0o666)
        p = gw.ctl("xfrm", "state", user=TEST_USER)
        check("a peer that is not root: refused as without CAP_NET_ADMIN, exit 2",
              p.returncode == 2 and "Operation not permitted" in p.stderr and
              "spi" not in p.stdout, "rc %d: %s %s" % (p.returncode, p.stdout, p.stderr))
        p = gw.ctl(*shlex.split(state(0x1007, keys[1])), user=TEST_USER)
        check("... and cannot add a state", p.returncode == 2, p.stderr)
        os.chmod(sock, mode & 0o7777)
        p = gw.ctl("xfrm", "state", "flush")
        check("state flush", p.returncode == 0, p.stderr)
        p = gw.ctl("xfrm", "state")
        check("... leaves no state", p.returncode == 0 and "spi" not in p.stdout, p.stdout)
        gw.listings.append(p.stdout)
        time.sleep(1)  # the old table set is freed after a grace period

        found = scan_memory(gw.proc.pid, keys)
        forms = ["hex", "HEX", "AES hex", "key", "AES key"]
        check("no key left in espgw's memory after the flush", not found,
              "; ".join("key %d (%s) at 0x%x in %s after %r" %
                        (i // 5, forms[i % 5], at, m.split()[-1], ctx)
                        for m, at, i, ctx in found[:12]))

        mon.send_signal(signal.SIGTERM)
        mon.wait(timeout=10)
        mon_out.close()
        rc = gw.stop()
        check("espgw exits 0 on SIGINT", rc == 0, "rc %d" % rc)
        outputs = {}
        for name in ("espgw.out", "stats", "monitor"):
            with open(os.path.join(tmp, name), "rb") as f:
                outputs[name] = f.read()
        outputs["espgwctl errors"] = "".join(gw.ctl_errors).encode()
        for name, data in outputs.items():
            hit = [f for f in needles(keys) if f in data]
            check("no key in %s" % name, not hit and len(data) > 0,
                  "%d bytes, %d key forms found" % (len(data), len(hit)))
        check("the monitor saw the states come and go",
              b"spi 0x00001001" in outputs["monitor"] and
              b"Flushed" in outputs["monitor"] or b"Deleted" in outputs["monitor"],
              outputs["monitor"][:300].decode(errors="replace"))
    except Fail as e:
        check(str(e), False)
    finally:
        if mon is not None and mon.poll() is None:
            mon.kill()
        gw.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
