#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host end of the command channel to the Linux peer (tests/interop).

qemu connects the guest's second serial port (/dev/ttyS1) to a unix
socket; the guest's /init (guest-init.sh) reads one request a line:
"<id> <base64 script>", runs the script and answers with its output and
"@@DONE <id> <status>".

    guestctl.py SOCKET [-t SECONDS] SCRIPT     run SCRIPT, print its output,
                                               exit with its status
    guestctl.py SOCKET -t SECONDS --wait       wait until the guest answers

Exit status 124 when the guest did not answer in time, 125 when the
socket cannot be reached. Only the Python standard library is used.
"""
import base64
import os
import socket
import sys
import time


def request(path, script, timeout):
    deadline = time.monotonic() + timeout
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            s.connect(path)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                print(f"guestctl: cannot connect to {path}: {e}",
                      file=sys.stderr)
                return 125, ""
            time.sleep(0.2)
    rid = f"{os.getpid()}x{int(time.time() * 1000) % 100000000}"
    line = rid + " " + base64.b64encode(script.encode()).decode() + "\n"
    s.sendall(line.encode())
    buf = b""
    out = []
    marker = b"@@DONE " + rid.encode() + b" "
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            s.close()
            return 124, b"".join(out).decode(errors="replace")
        s.settimeout(min(left, 1.0))
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            s.close()
            return 125, b"".join(out).decode(errors="replace")
        buf += chunk
        while b"\n" in buf:
            ln, buf = buf.split(b"\n", 1)
            ln = ln.rstrip(b"\r")
            # the marker may follow output that did not end its line
            at = ln.find(marker)
            if at >= 0:
                if at > 0:
                    out.append(ln[:at] + b"\n")
                s.close()
                return int(ln[at + len(marker):] or b"255"), \
                    b"".join(out).decode(errors="replace")
            at = ln.find(b"@@DONE ")
            if at >= 0:
                # the answer to an earlier, abandoned request
                ln = ln[:at]
                if not ln:
                    continue
            out.append(ln + b"\n")


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    path = args.pop(0)
    timeout = 60.0
    if len(args) >= 2 and args[0] == "-t":
        timeout = float(args[1])
        args = args[2:]
    if args == ["--wait"]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rc, _ = request(path, "true", min(5.0, deadline - time.monotonic()))
            if rc == 0:
                return 0
            time.sleep(0.3)
        return 124
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rc, out = request(path, args[0], timeout)
    sys.stdout.write(out)
    if rc == 124:
        print(f"guestctl: no answer within {timeout:g}s", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
