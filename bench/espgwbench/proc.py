"""Running a gateway: start it with its logs, talk to its telemetry socket,
stop it and clean up after it, and fail with its log's tail when it breaks."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time

from .common import WORK, Fail


class Telemetry:
    """DPDK's telemetry socket (/var/run/dpdk/<prefix>/dpdk_telemetry.v2)."""

    def __init__(self, prefix, proc, timeout):
        path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise Fail("exited with %d before its telemetry socket appeared"
                           % proc.returncode)
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("no telemetry socket %s within %ds" % (path, timeout))
                time.sleep(0.05)
        self.s = s
        self.s.settimeout(5)
        json.loads(self.s.recv(65536).decode())

    def cmd(self, c):
        self.s.send(c.encode())
        return json.loads(self.s.recv(1 << 20).decode())

    def stats(self, port):
        return self.cmd("/ethdev/stats,%d" % port)["/ethdev/stats"]

    def name(self, port):
        return self.cmd("/ethdev/info,%d" % port)["/ethdev/info"]["name"]

    def close(self):
        self.s.close()


_seq = [0]


def start(case, huge, tag, sink=None, infinite=True, stats_file=None):
    _seq[0] += 1
    prefix = "espgwbench%d_%d" % (os.getpid(), _seq[0])
    ldir = os.path.join(WORK, "logs")
    os.makedirs(ldir, exist_ok=True)
    base = os.path.join(ldir, "%s.%s" % (case.name, tag))
    cmd = case.cmd(prefix, huge, sink=sink, infinite=infinite, stats_file=stats_file)
    with open(base + ".cmd", "w") as fp:
        fp.write(" ".join(cmd) + "\n")
    out = open(base + ".log", "w")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    out.close()
    return proc, prefix, base + ".log"


def cleanup_runtime(prefix):
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)


def stop(proc, logpath, what, prefix=None):
    try:
        _stop(proc, logpath, what)
    finally:
        if prefix:
            cleanup_runtime(prefix)


def interrupt(proc, timeout):
    """SIGINT proc if it still runs and wait up to timeout seconds, then
    kill it. True when it stopped on the SIGINT (or had stopped)."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def _stop(proc, logpath, what):
    if not interrupt(proc, 30):
        raise Fail("%s did not stop on SIGINT within 30 s (log %s)" % (what, logpath))
    if proc.returncode != 0:
        raise Fail("%s exited with %d (log %s):\n%s" % (what, proc.returncode, logpath,
                                                       tail(logpath)))


def fail_run(proc, prefix, what, err, logpath):
    """Kill a run that went wrong and raise Fail saying how it ended."""
    time.sleep(0.2)
    rc = proc.poll()
    if rc is None:
        proc.kill()
        proc.wait()
    cleanup_runtime(prefix)
    how = ""
    if rc is not None and rc < 0:
        how = "; it died of signal %d (%s)" % (-rc, signal.Signals(-rc).name)
    elif rc is not None:
        how = "; it exited with %d" % rc
    raise Fail("%s: %s%s (log %s):\n%s" % (what, err, how, logpath, tail(logpath)))


def shrink_log(path, limit=1 << 20):
    """espgw prints every SA's counters at exit: keep a large log's ends."""
    try:
        if os.path.getsize(path) <= limit:
            return
        lines = open(path, errors="replace").readlines()
        with open(path, "w") as fp:
            fp.writelines(lines[:100])
            fp.write("... (%d lines cut by bench/run.py) ...\n" % (len(lines) - 150))
            fp.writelines(lines[-50:])
    except OSError:
        pass


def tail(path, n=15):
    try:
        return "".join(open(path, errors="replace").readlines()[-n:])
    except OSError:
        return ""


def check_ports(tel, what):
    names = (tel.name(0), tel.name(1))
    if not names[0].startswith("net_pcap") or names[1] not in ("net_null0", "net_pcap1"):
        raise Fail("%s: unexpected ports %s (want port 0 = net_pcap0, port 1 = sink)"
                   % (what, names))


def espgw_check(binary, conf, prefix):
    """espgw -c on a configuration (two net_null ports): None when it loads,
    else espgw's last line."""
    cmd = [binary, "--no-pci", "--no-huge", "-m", "256", "--no-shconf", "--file-prefix", prefix,
           "--vdev", "net_null0", "--vdev", "net_null1", "--", "-c", "-f", conf]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, universal_newlines=True, timeout=120)
    cleanup_runtime(prefix)
    if r.returncode == 0:
        return None
    return (r.stdout.strip().splitlines() or ["exit %d" % r.returncode])[-1]
