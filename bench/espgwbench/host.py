"""Setting up the host: Python modules, hugepages, what the machine and the
tree are (for the report), and building espgw and the patched ipsec-secgw,
so that every run measures binaries it knows."""

import glob
import hashlib
import os
import platform
import shutil
import subprocess

from . import common
from .common import BUILD, CEIL_CLI, ROOT, SECGW, SECGW_DIR, SECGW_SRC, WORK, Fail, log


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
    if not os.path.isdir(SECGW_SRC):
        log("installing dpdk-doc (ipsec-secgw sources)")
        subprocess.run("apt-get update -qq && apt-get install -y -qq dpdk-doc",
                       shell=True, check=False, stdout=subprocess.DEVNULL)
    if not os.path.isfile(os.path.join(SECGW_SRC, "ipsec-secgw.c")):
        raise Fail("no ipsec-secgw sources under %s (package dpdk-doc)" % SECGW_SRC)
    h = hashlib.sha256(SECGW_PATCH.encode())
    for f in sorted(glob.glob(os.path.join(SECGW_SRC, "*"))):
        if os.path.isfile(f):
            h.update(open(f, "rb").read())
    h.update(sh(["pkg-config", "--modversion", "libdpdk"]).encode())
    stamp = os.path.join(SECGW_DIR, "stamp")
    if (os.path.exists(stamp) and open(stamp).read() == h.hexdigest()
            and os.access(SECGW, os.X_OK)):
        return
    log("building ipsec-secgw from %s (patched: no RX checksum offload on vdevs)"
        % SECGW_SRC)
    src = os.path.join(SECGW_DIR, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    shutil.copytree(SECGW_SRC, os.path.join(src, "ipsec-secgw"))
    shutil.copytree(os.path.join(os.path.dirname(SECGW_SRC), "common"),
                    os.path.join(src, "common"))
    c = os.path.join(src, "ipsec-secgw", "ipsec-secgw.c")
    text = open(c).read()
    if text.count(SECGW_ANCHOR) != 1:
        raise Fail("cannot apply the vdev patch to %s: anchor line not found once" % c)
    with open(c, "w") as fp:
        fp.write(text.replace(SECGW_ANCHOR, SECGW_PATCH))
    with open(os.path.join(SECGW_DIR, "make.log"), "w") as fp:
        r = subprocess.run(["make", "-j%d" % (os.cpu_count() or 1)],
                           cwd=os.path.join(src, "ipsec-secgw"), stdout=fp,
                           stderr=subprocess.STDOUT)
    if r.returncode != 0 or not os.access(SECGW, os.X_OK):
        raise Fail("ipsec-secgw build failed, see %s/make.log" % SECGW_DIR)
    with open(stamp, "w") as fp:
        fp.write(h.hexdigest())
