"""Measuring: a run's throughput, losses and CPU share, the functional check
of the output frames, the raw cipher ceiling and perf profiles: everything
that reads numbers off a running gateway or the cipher."""

import glob
import json
import os
import re
import resource
import shutil
import struct
import subprocess
import time

from . import common
from .common import (CEIL_CLI, KEY_IN, KEY_OUT, NATT_PORT, SIZES, SPI_IN, SPI_OUT, WORK,
                     WORKER_CPU, Fail, esp_ct_len, fam_addrs, frame_lens, inner6, log, outer6)
from .proc import Telemetry, check_ports, fail_run, shrink_log, start, stop
from .traffic import esp_sa


def cpu_times():
    """{cpuN: (busy, steal)} in clock ticks from /proc/stat."""
    out = {}
    for line in open("/proc/stat"):
        if line.startswith("cpu") and line[3].isdigit():
            f = line.split()
            v = [int(x) for x in f[1:]]
            idle = v[3] + v[4]
            steal = v[7] if len(v) > 7 else 0
            out[f[0]] = (sum(v[:8]) - idle - steal, steal)
    return out


def thread_exec_ns(pid):
    """{tid: ns on a CPU} of a process's threads (schedstat: steal excluded)."""
    out = {}
    for d in glob.glob("/proc/%d/task/*" % pid):
        try:
            out[d.rsplit("/", 1)[1]] = int(open(d + "/schedstat").read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def proc_ticks(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except (OSError, IndexError, ValueError):
        return 0


class Run:
    pass


def read_stats_file(path):
    st = {}
    if os.path.exists(path):
        for line in open(path):
            f = line.split()
            if len(f) == 2:
                st[f[0]] = int(f[1])
    return st


def espgw_drops(st):
    """Non-zero drop counters from an espgw stats file."""
    bad = {}
    for k, v in st.items():
        if not v:
            continue
        if (k.startswith("gw.drop-") or k.startswith("esp.") or
                (k.startswith("sa.") and not k.endswith((".packets", ".bytes")))):
            bad[k] = v
    return bad


def espgw_sides(binary):
    """{stats-file name: side of the one-fate law} as the espgw binary
    prints them (espgw --counters; app/dataplane/counters.h): "in",
    "out" or "event" for gw.<counter>, "reason" for esp.<reason>."""
    out = subprocess.run([binary, "--counters"], capture_output=True, text=True).stdout
    sides = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
    if "gw.rx" not in sides:
        raise Fail("%s --counters: %r" % (binary, out[:200]))
    return sides


def espgw_balance(st, sides):
    """One packet, one fate (app/dataplane/counters.h): (packets in,
    packets accounted for, the names the stats file and the sides
    disagree on) of an espgw stats file."""
    came = sum(st.get(k, 0) for k, s in sides.items() if s == "in")
    went = sum(st.get(k, 0) for k, s in sides.items() if s == "out")
    odd = sorted([k for k in st if k.startswith("gw.") and k not in sides] +
                 [k for k, s in sides.items() if s in ("in", "out") and k not in st])
    return came, went, odd


def measure(case, huge, warmup, window, tag, start_timeout):
    """One run: start, wait for traffic, warm up, measure a window, stop."""
    stats_file = os.path.join(WORK, "logs", "%s.%s.stats" % (case.name, tag))
    if os.path.exists(stats_file):
        os.remove(stats_file)
    proc, prefix, logpath = start(case, huge, tag,
                                  stats_file=stats_file if case.gw == "espgw" else None)
    what = "%s (%s)" % (case.name, case.gw)
    r = Run()
    try:
        tel = Telemetry(prefix, proc, start_timeout)
        check_ports(tel, what)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if proc.poll() is not None:
                raise Fail("%s exited with %d" % (what, proc.returncode))
            if time.monotonic() - t0 > 20:
                raise Fail("%s forwarded nothing within 20 s (log %s)" % (what, logpath))
            time.sleep(0.05)
        time.sleep(warmup)

        def snap():
            # sink, source, sink: the sink's count at the moment the source
            # was read is the mean of the two (telemetry reads are not atomic)
            a = time.monotonic()
            s1a = tel.stats(1)
            s0 = tel.stats(0)
            s1b = tel.stats(1)
            b = time.monotonic()
            s1 = dict(s1b)
            for k in ("opackets", "oerrors"):
                s1[k] = (s1a[k] + s1b[k]) / 2
            return (a + b) / 2, s0, s1, cpu_times(), proc_ticks(proc.pid)

        ea = thread_exec_ns(proc.pid)
        ta, a0, a1, ca, pa = snap()
        time.sleep(window)
        tb, b0, b1, cb, pb = snap()
        eb = thread_exec_ns(proc.pid)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, what, e, logpath)
    stop(proc, logpath, what, prefix)
    dt = tb - ta
    r.dt = dt
    r.pps = (b1["opackets"] - a1["opackets"]) / dt
    r.rx_pps = (b0["ipackets"] - a0["ipackets"]) / dt
    r.imissed = b0["imissed"] - a0["imissed"]
    r.rx_nombuf = b0["rx_nombuf"] - a0["rx_nombuf"]
    r.ierrors = b0["ierrors"] - a0["ierrors"]
    r.oerrors = b1["oerrors"] - a1["oerrors"]
    hz = os.sysconf("SC_CLK_TCK")
    busy = sum(cb[c][0] - ca[c][0] for c in cb)
    r.others_cpu = max(0.0, (busy - (pb - pa)) / hz / dt)   # CPUs used by others
    r.steal = {c: (cb[c][1] - ca[c][1]) / hz / dt for c in cb}
    # the busiest thread's share of the window: the worker (secgw -l 1: its
    # main thread); below 1 when something else ran on its CPU
    shares = sorted(((eb[t] - ea.get(t, 0)) / 1e9 / dt for t in eb), reverse=True)
    r.share = min(1.0, shares[0]) if shares else 0.0
    r.share2 = min(1.0, shares[1]) if len(shares) > 1 else 0.0
    r.stats = read_stats_file(stats_file) if case.gw == "espgw" else {}
    shrink_log(logpath)
    # a stats file has a line per SA counter (~40 MB with 100,000 SAs)
    if os.path.exists(stats_file) and os.path.getsize(stats_file) > (1 << 20):
        os.remove(stats_file)
    r.drops = espgw_drops(r.stats)
    if case.gw == "espgw" and not r.stats:
        raise Fail("%s wrote no --stats-file at exit (log %s)" % (what, logpath))
    if case.gw == "espgw":  # with the sides of the binary measured
        r.balance = espgw_balance(r.stats, espgw_sides(common.ESPGW))
    if r.pps <= 0:
        raise Fail("%s forwarded nothing in the window (log %s)" % (what, logpath))
    return r


# --- functional check ------------------------------------------------------------

def verify(case, huge, S):
    """Feed the pcap once into a net_pcap sink; check every output frame,
    and espgw's counters: every frame encrypted (or decrypted) and sent,
    no drop."""
    out = os.path.join(WORK, "verify", case.name + ".pcap")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    if os.path.exists(out):
        os.remove(out)
    stats_file = out + ".stats" if case.gw == "espgw" else None
    if stats_file and os.path.exists(stats_file):
        os.remove(stats_file)
    sent = S["rdpcap"](case.pcaps[0])
    proc, prefix, logpath = start(case, huge, "verify", sink="net_pcap1,tx_pcap=" + out,
                                  infinite=False, stats_file=stats_file)
    what = "%s functional check" % case.name
    try:
        tel = Telemetry(prefix, proc, 60)
        check_ports(tel, what)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] < len(sent):
            if time.monotonic() - t0 > 15:
                break
            time.sleep(0.05)
        time.sleep(0.2)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, what, e, logpath)
    stop(proc, logpath, what, prefix)
    got = S["rdpcap"](out) if os.path.exists(out) else []
    if len(got) != len(sent):
        raise Fail("%s: %d frames in, %d out (log %s)" % (what, len(sent), len(got), logpath))
    if stats_file:
        verify_counters(case, read_stats_file(stats_file), len(sent), what)
    gw, peer = fam_addrs(case.fam)
    sa_out = esp_sa(S, SPI_OUT, KEY_OUT, gw, peer)
    ip_in, ip_out = (S["IPv6"] if inner6(case.fam) else S["IP"],
                     S["IPv6"] if outer6(case.fam) else S["IP"])
    for i, (a, b) in enumerate(zip(sent, got)):
        b = S["Ether"](bytes(b))
        udp = case.meta.get("udp", False)
        if case.direction == "encap":
            want = a[ip_in]
            o = b[ip_out] if ip_out in b else None
            if o is not None and udp:
                o = esp_of_udp(S, o, what, i)
            proto = None if o is None else (o.nh if outer6(case.fam) else o.proto)
            if (o is None or proto != 50 or o.src != gw or o.dst != peer or
                    o[S["ESP"]].spi != SPI_OUT):
                raise Fail("%s: frame %d is not ESP from %s to %s with SPI %#x: %s"
                           % (what, i, gw, peer, SPI_OUT, b.summary()))
            try:
                inner = sa_out.decrypt(ip_out(bytes(o)))
            except Exception as e:
                raise Fail("%s: frame %d does not decrypt: %s" % (what, i, e))
        elif case.direction == "decap":
            want = sa_in_decrypt(S, a, udp, case.fam)
            inner = b[ip_in] if ip_in in b else b
        else:
            want = a[S["IP"]]
            inner = b[S["IP"]]
        if not isinstance(inner, ip_in) or not (same_ip6(want, inner) if inner6(case.fam)
                                                  else same_ip(S, want, inner)):
            raise Fail("%s: frame %d differs:\n in  %s\n out %s"
                       % (what, i, bytes(want).hex(), bytes(inner).hex()))
    return len(got)


def verify_counters(case, st, n, what):
    """espgw did the work: n frames in, n encrypted (or decrypted), n out."""
    work = {"encap": "gw.encrypted", "decap": "gw.decrypted"}.get(case.direction)
    want = {"gw.rx": n, "gw.tx": n}
    if work:
        want[work] = n
    got = {k: st.get(k, 0) for k in want}
    drops = espgw_drops(st)
    if got != want or drops:
        raise Fail("%s: espgw counters %s, want %s%s" % (
            what, got, want, "; drops %s" % drops if drops else ""))


_sa_in = {}


def esp_of_udp(S, o, what, i):
    """ESP in UDP as Linux frames it (ports NATT_PORT, checksum 0), as the
    plain ESP packet scapy decrypts."""
    if (o.proto != 17 or o[S["UDP"]].sport != NATT_PORT or o[S["UDP"]].dport != NATT_PORT or
            o[S["UDP"]].chksum != 0 or o[S["UDP"]].len != o.len - 20):
        raise Fail("%s: frame %d is not ESP in UDP %d -> %d, checksum 0: %s"
                   % (what, i, NATT_PORT, NATT_PORT, o.summary()))
    b = bytes(o)
    return S["IP"](bytes(S["IP"](src=o.src, dst=o.dst, proto=50, ttl=o.ttl, id=o.id) /
                         S["Raw"](b[28:])))


def sa_in_decrypt(S, frame, udp=False, fam="4in4"):
    sa = _sa_in.get(fam)
    if sa is None:
        gw, peer = fam_addrs(fam)
        sa = _sa_in[fam] = esp_sa(S, SPI_IN, KEY_IN, peer, gw)
    if outer6(fam):
        return sa.decrypt(S["IPv6"](bytes(frame[S["IPv6"]])))
    o = S["IP"](bytes(frame[S["IP"]]))
    return sa.decrypt(esp_of_udp(S, o, "the pcap", 0) if udp else o)


def same_ip(S, a, b):
    """Same IPv4 packet, but for TTL (a gateway may decrement it) and the
    header checksum that goes with it; the checksum must be valid."""
    a, b = bytes(a), bytes(b)
    if len(a) != len(b) or len(b) < 20:
        return False
    hl = (b[0] & 15) * 4
    s = sum(struct.unpack("!%dH" % (hl // 2), b[:hl]))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    if s != 0xffff:
        return False
    return a[:8] == b[:8] and a[9:10] == b[9:10] and a[12:] == b[12:] and b[8] in (a[8], a[8] - 1)


def same_ip6(a, b):
    """Same IPv6 packet, but for the hop limit (byte 7), which a gateway
    may decrement."""
    a, b = bytes(a), bytes(b)
    return (len(a) == len(b) and len(b) >= 40 and a[:7] == b[:7] and a[8:] == b[8:] and
            b[7] in (a[7], a[7] - 1))


# --- the ceiling ---------------------------------------------------------------

def ceiling_once(seconds, min_share, retries):
    """One repetition of every length and direction on CPU 1; measured again
    when the program had less than min_share of its CPU (shared machine)."""
    lens = sorted({esp_ct_len(f) for s in SIZES for f in frame_lens(s)})
    cmd = ["taskset", "-c", str(WORKER_CPU), CEIL_CLI, "-s", str(seconds), "-r", "1"]
    cmd += [str(l) for l in lens]
    dirty = []
    for attempt in range(1 + retries):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        out, err = p.communicate()
        wall = time.monotonic() - t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = ru.ru_utime + ru.ru_stime - _child_cpu[0]
        _child_cpu[0] = ru.ru_utime + ru.ru_stime
        if p.returncode != 0:
            raise Fail("imb_ceiling_cli failed (%d): %s" % (p.returncode, err.strip()))
        share = min(1.0, used / wall) if wall > 0 else 0.0
        j = json.loads(out)
        if share >= min_share or attempt == retries:
            return j, share, dirty
        dirty.append(share)
        log("  ceiling had %.0f%% of its CPU: dirty, again" % (100 * share))


_child_cpu = [0.0]


def ceiling_merge(parts):
    """Repetitions measured one per round -> one result with lists."""
    j = dict(parts[0][0])
    j["reps"] = len(parts)
    j["shares"] = [sh for _, sh, _ in parts]
    j["dirty"] = [d for _, _, ds in parts for d in ds]
    res = {}
    for part, _, _ in parts:
        for x in part["results"]:
            r = res.setdefault(x["len"], {"len": x["len"], "api": x["api"], "enc": [],
                                          "dec": []})
            r["enc"] += x["enc"]
            r["dec"] += x["dec"]
    j["results"] = [res[k] for k in sorted(res)]
    j["by_len"] = res
    return j


def ceiling_pps(ceil, size, direction):
    """Raw cipher calls/s for a frame size (IMIX: time-weighted mix), per run."""
    key = "enc" if direction == "encap" else "dec"
    lens = frame_lens(size)
    reps = len(ceil["by_len"][esp_ct_len(lens[0])][key])
    out = []
    for k in range(reps):
        t = sum(1.0 / ceil["by_len"][esp_ct_len(f)][key][k] for f in lens) / len(lens)
        out.append(1.0 / t)
    return out


# --- profiling ------------------------------------------------------------------

def profile(case, huge, seconds, outdir):
    """perf record (cpu-clock) on the worker's CPU while the case runs."""
    if not shutil.which("perf"):
        raise Fail("perf is not installed (apt-get install linux-perf)")
    proc, prefix, logpath = start(case, huge, "perf")
    data = os.path.join(WORK, "perf-%s.data" % case.name)
    for f in (data, data + ".old"):
        if os.path.exists(f):
            os.remove(f)
    try:
        tel = Telemetry(prefix, proc, 60)
        t0 = time.monotonic()
        while tel.stats(1)["opackets"] == 0:
            if time.monotonic() - t0 > 20:
                raise Fail("%s forwarded nothing" % case.name)
            time.sleep(0.05)
        time.sleep(1.0)
        a = tel.stats(1)["opackets"]
        ta = time.monotonic()
        subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", "4999", "-g",
                        "-p", str(proc.pid), "-o", data, "--", "sleep", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        pps = (tel.stats(1)["opackets"] - a) / (time.monotonic() - ta)
        tel.close()
    except Exception as e:
        fail_run(proc, prefix, case.name + " (perf)", e, logpath)
    stop(proc, logpath, case.name + " (perf)", prefix)
    def report_(*extra):
        return subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio"] +
                              list(extra), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, universal_newlines=True).stdout

    def body(text):
        return [l.rstrip() for l in text.splitlines() if l.strip() and not l.startswith("#")]

    flat = body(report_("--sort", "dso,sym", "-g", "none",
                        "--percent-limit", "0.5"))
    by_dso = body(report_("--sort", "dso", "-g", "none"))
    callers = report_("--sort", "sym", "--percent-limit", "3",
                      "-g", "caller,0.5,callee,function,percent", "--max-stack", "8")
    path = os.path.join(outdir, "profile-%s.txt" % case.name)
    with open(path, "w") as fp:
        fp.write("# %s: perf record -e cpu-clock -F 4999 -g -p <gateway pid> for %ss; "
                 "%.2f Mpps during the profile\n\n" % (case.name, seconds, pps / 1e6))
        fp.write("## by DSO\n\n" + "\n".join(by_dso) + "\n\n")
        fp.write("## flat (self time; DPDK's shared libraries are stripped, so their "
                 "samples show as addresses)\n\n" + "\n".join(flat) + "\n\n")
        fp.write("## call chains of the top symbols (frame pointers: partial)\n\n")
        fp.write("\n".join(l for l in callers.splitlines() if not l.startswith("#")))
    return path, profile_top(by_dso, flat), pps


def profile_top(by_dso, flat):
    """What the report shows of a profile: the top DSOs, then symbols."""
    return (by_dso[:6] + [""] + flat[:22])[:25]


def read_profile(path):
    """profile()'s answer again from the file it wrote: (path, the report's
    lines, packets per second while profiled)."""
    with open(path) as fp:
        text = fp.read()
    m = re.search(r"([0-9.]+) Mpps during the profile", text.split("\n", 1)[0])
    if not m:
        raise Fail("%s: not a profile of bench/run.py" % path)
    parts = {}
    for sec in text.split("\n## ")[1:]:
        head, _, body = sec.partition("\n")
        parts[head.split(" (")[0]] = [l for l in body.splitlines() if l.strip()]
    return path, profile_top(parts.get("by DSO", []), parts.get("flat", [])), \
        float(m.group(1)) * 1e6
