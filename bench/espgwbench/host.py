"""Setting up the host: Python modules, hugepages, what the machine and the
tree are (for the report), and building espgw and the patched ipsec-secgw
and l3fwd, so that every run measures binaries it knows."""

import glob
import hashlib
import os
import platform
import shutil
import subprocess

from . import common
from .common import (BUILD, CEIL_CLI, L3FWD, L3FWD_DIR, L3FWD_SRC, ROOT, SECGW, SECGW_DIR,
                     SECGW_SRC, WORK, Fail, log)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw).stdout


def ensure_python_modules():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("installing python3-matplotlib (apt-get)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq python3-matplotlib",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    try:
        import scapy  # noqa: F401
        import cryptography  # noqa: F401
    except ImportError:
        log("installing python3-scapy python3-cryptography (apt-get)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq "
                       "python3-scapy python3-cryptography", shell=True,
                       check=False, stdout=subprocess.DEVNULL)
        import scapy  # noqa: F401


def setup_hugepages(want=1024):
    """2 MB hugepages on a mounted hugetlbfs, set up when root. Returns
    (True, note) or (False, why not)."""
    nr_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
    free_path = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
    try:
        mounted = any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts"))
        if os.geteuid() == 0:
            if int(open(nr_path).read()) < want:
                with open(nr_path, "w") as fp:
                    fp.write(str(want))
            if not mounted:
                os.makedirs("/dev/hugepages", exist_ok=True)
                subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"],
                               check=True)
                mounted = True
        free = int(open(free_path).read())
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        return False, "hugepage set-up failed (%s)" % e
    if not mounted:
        return False, "no hugetlbfs mounted (not root?)"
    if free < 512:
        return False, "only %d free 2 MB hugepages" % free
    return True, "%d x 2 MB hugepages free of %s" % (free, open(nr_path).read().strip())


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def lscpu_summary():
    try:
        out = sh(["lscpu"])
    except (OSError, subprocess.CalledProcessError):
        return ""
    keep = ("Model name", "CPU(s)", "Hypervisor vendor", "L2 cache", "L3 cache",
            "CPU max MHz")
    lines = [l.strip() for l in out.splitlines() if l.split(":")[0].strip() in keep]
    return "; ".join(" ".join(l.split()) for l in lines)


def git_state():
    try:
        rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip()
        dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--", "app", "lib",
                    "meson.build"]).split("\n")
        dirty = [d[3:] for d in dirty if d.strip()]
    except (OSError, subprocess.CalledProcessError):
        return "unknown", []
    return rev, dirty


def build_espgw(binary=None):
    """Build, then measure a copy of the binary: a rebuild of build/ during
    the run (someone else working in the tree) cannot swap it mid-run."""
    log("building espgw and bench/ (ninja -C build)")
    if not os.path.exists(os.path.join(BUILD, "build.ninja")):
        sh(["meson", "setup", BUILD], cwd=ROOT)
    sh(["ninja", "-C", BUILD])
    src = binary or common.ESPGW
    for p in (src, CEIL_CLI):
        if not os.access(p, os.X_OK):
            raise Fail("%s was not built" % p)
    os.makedirs(os.path.join(WORK, "bin"), exist_ok=True)
    common.ESPGW = os.path.join(WORK, "bin", "espgw")
    shutil.copy2(src, common.ESPGW + ".tmp")
    os.replace(common.ESPGW + ".tmp", common.ESPGW)
    return hashlib.sha256(open(common.ESPGW, "rb").read()).hexdigest()[:12]


SECGW_ANCHOR = "\tlocal_port_conf.txmode.offloads |= req_tx_offloads;\n"
SECGW_PATCH = SECGW_ANCHOR + """
\t/* espgw bench: drop the default RX checksum offload, which vdevs
\t * (net_pcap, net_null) lack and the app never uses. */
\tif ((dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) !=
\t\t\tRTE_ETH_RX_OFFLOAD_CHECKSUM) {
\t\tprintf("port %u: dropping unsupported default RX checksum offload\\n",
\t\t\tportid);
\t\tlocal_port_conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_CHECKSUM &
\t\t\t~dev_info.rx_offload_capa);
\t}
"""


def build_secgw():
    """Copy dpdk-doc's ipsec-secgw sources to build/secgw/src, patch, make."""
    build_example(SECGW_SRC, SECGW_DIR, SECGW, "ipsec-secgw.c", SECGW_ANCHOR, SECGW_PATCH,
                  "no RX checksum offload on vdevs")


L3FWD_ANCHOR = """\t\tlocal_port_conf.rx_adv_conf.rss_conf.rss_hf &=
\t\t\tdev_info.flow_type_rss_offloads;
"""
L3FWD_PATCH = """\t\t/* espgw bench: drop the default RX checksum offload, which vdevs
\t\t * (net_pcap, net_null) lack and l3fwd never reads; from port_conf
\t\t * too, which the RX queues are set up with. */
\t\tif ((dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_CHECKSUM) !=
\t\t\t\tRTE_ETH_RX_OFFLOAD_CHECKSUM) {
\t\t\tprintf("port %u: dropping unsupported default RX checksum offload\\n",
\t\t\t\tportid);
\t\t\tport_conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_CHECKSUM &
\t\t\t\t~dev_info.rx_offload_capa);
\t\t\tlocal_port_conf.rxmode.offloads &= ~(RTE_ETH_RX_OFFLOAD_CHECKSUM &
\t\t\t\t~dev_info.rx_offload_capa);
\t\t}

""" + L3FWD_ANCHOR


def build_l3fwd():
    """Copy dpdk-doc's l3fwd sources to build/l3fwd/src, patch, make: the
    same RX checksum change as ipsec-secgw's, which no option of l3fwd
    makes (RSS it drops by itself when a port has none)."""
    build_example(L3FWD_SRC, L3FWD_DIR, L3FWD, "main.c", L3FWD_ANCHOR, L3FWD_PATCH,
                  "no RX checksum offload on vdevs")


def build_example(src_dir, work, binary, patched, anchor, patch, what):
    """A DPDK example from dpdk-doc (installed when missing), with examples/
    common beside it as its Makefile wants, one source file patched, built
    with its Makefile against the installed DPDK; again only when the
    sources, the patch or DPDK changed (a stamp of their hash)."""
    name = os.path.basename(src_dir)
    if not os.path.isdir(src_dir):
        log("installing dpdk-doc (%s sources)" % name)
        subprocess.run("apt-get update -qq && apt-get install -y -qq dpdk-doc",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    if not os.path.isfile(os.path.join(src_dir, patched)):
        raise Fail("no %s sources under %s (package dpdk-doc)" % (name, src_dir))
    h = hashlib.sha256(patch.encode())
    for f in sorted(glob.glob(os.path.join(src_dir, "*"))):
        if os.path.isfile(f):
            h.update(open(f, "rb").read())
    h.update(sh(["pkg-config", "--modversion", "libdpdk"]).encode())
    stamp = os.path.join(work, "stamp")
    if (os.path.exists(stamp) and open(stamp).read() == h.hexdigest()
            and os.access(binary, os.X_OK)):
        return
    log("building %s from %s (patched: %s)" % (name, src_dir, what))
    src = os.path.join(work, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    shutil.copytree(src_dir, os.path.join(src, name))
    shutil.copytree(os.path.join(os.path.dirname(src_dir), "common"),
                    os.path.join(src, "common"))
    c = os.path.join(src, name, patched)
    text = open(c).read()
    if text.count(anchor) != 1:
        raise Fail("cannot apply the vdev patch to %s: anchor line not found once" % c)
    with open(c, "w") as fp:
        fp.write(text.replace(anchor, patch))
    with open(os.path.join(work, "make.log"), "w") as fp:
        r = subprocess.run(["make", "-j%d" % (os.cpu_count() or 1)],
                           cwd=os.path.join(src, name), stdout=fp,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.access(binary, os.X_OK):
        raise Fail("%s build failed, see %s/make.log" % (name, work))
    with open(stamp, "w") as fp:
        fp.write(h.hexdigest())
