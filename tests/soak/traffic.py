#!/usr/bin/python3
"""Traffic for tests/soak/run.py, one role a process, run in a host's
namespace. Each role runs until SIGTERM (or its time is up), then
prints one JSON line of what it did.

  blast DST PORT SIZE PPS      UDP datagrams of SIZE bytes at PPS (0: flat out)
  sink PORT                    count what arrives on PORT
  probe DST PORT PPS OUT       sequence-numbered datagrams; send times to OUT
  catch PORT OUT               the sequence numbers that arrived, to OUT
"""
import json
import signal
import socket
import struct
import sys
import time

stop = False


def on_term(_sig, _frm):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def udp(rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    return s


def paced(pps, batch):
    """Yield batch sizes that keep to pps on average (0: no pacing)."""
    t0 = time.monotonic()
    n = 0
    while not stop:
        if pps:
            ahead = n / pps - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        yield batch
        n += batch


def blast(dst, port, size, pps):
    s = udp()
    s.setblocking(False)
    data = bytes(size)
    sent = full = 0
    for b in paced(pps, 32 if pps == 0 or pps > 3200 else 1):
        for _ in range(b):
            try:
                s.sendto(data, (dst, port))
                sent += 1
            except BlockingIOError:
                full += 1  # the host's own queue: not the gateways'
    return {"sent": sent, "host-queue-full": full}


def sink(port):
    s = udp(4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    n = 0
    while not stop:
        try:
            s.recv(2048)
            n += 1
        except socket.timeout:
            pass
    return {"received": n}


def probe(dst, port, pps, out):
    s = udp()
    times = []
    for _ in paced(pps, 1):
        seq = len(times)
        now = time.time()
        s.sendto(struct.pack("!Id", seq, now) + bytes(24), (dst, port))
        times.append(now)
    with open(out, "w") as f:
        json.dump(times, f)
    return {"sent": len(times)}


def catch(port, out):
    s = udp(1 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    seen = set()
    dup = 0
    while not stop:
        try:
            seq = struct.unpack("!I", s.recv(2048)[:4])[0]
        except socket.timeout:
            continue
        if seq in seen:
            dup += 1
        seen.add(seq)
    with open(out, "w") as f:
        json.dump(sorted(seen), f)
    return {"received": len(seen), "duplicates": dup}


def main(a):
    role = a[0]
    if role == "blast":
        r = blast(a[1], int(a[2]), int(a[3]), float(a[4]))
    elif role == "sink":
        r = sink(int(a[1]))
    elif role == "probe":
        r = probe(a[1], int(a[2]), float(a[3]), a[4])
    elif role == "catch":
        r = catch(int(a[1]), a[2])
    else:
        sys.exit("unknown role " + role)
    print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
