#!/usr/bin/python3
"""bouncejob - drive postern-bounce directly, without the queue manager.

  bouncejob.py BIN CONFDIR [options] ATTR...

Builds one JOB frame (common/bounce_proto.h): the job attributes v, id,
kind, to, sender, arrival and size, then the ATTRs in order ("name=value",
or "name=@FILE" to take the value from a file; each "addr=" starts a new
recipient group whose rcpt index is given automatically, unless an
explicit "rcpt=" came just before it). The original message travels as a
sealed memfd (common/memfd.h) on the frame (common/ipc.h: a 4-byte
big-endian header whose top bit says a descriptor rides along, then
netstrings "LEN:name=value,").

The worker is spawned with one end of a socketpair as its fd 0 and 1 and
a clean environment (PATH, POSTERN_CONFIG and the sanitizer options when
set), under setpriv as --setpriv USER when that is given and we are root.
The job is sent --repeat times, then the socket is shut for writing, so a
worker that answers every job exits 0. Each notice that comes back (a
sealed memfd) is written to --out (the first) and --out.N (the others).
Prints one JSON object:
  {"exit": CODE (negative: killed by that signal),
   "results": [{"v", "ok" or "error", "notice": PATH, "sealed": bool}],
   "stderr": "...", "seconds": N}

  bouncejob.py --batch DIR NAME...

runs several such jobs one after the other, each one's arguments read
from DIR/NAME.args (NUL-terminated strings, BIN and CONFDIR first) and
its JSON written to DIR/NAME.json: one Python start-up for a whole test.

Options:
  --kind K        failure (default), delay or success
  --to ADDR       the notice's recipient (default sender@test.example)
  --sender ADDR   the original's envelope sender (default the same)
  --arrival US    arrival, microseconds (default: an hour ago)
  --size N        the size to announce (default: the message's)
  --msg FILE      the original (default: a small message)
  --out FILE      where notices go (default: notice.eml in the cwd)
  --repeat N      send the job N times on one connection (default 1)
  --setpriv USER  run the worker as USER (and its group) when root
  --garbage WHAT  send a bad frame: "bytes" (not a frame), "attr" (an
                  unknown attribute), "nofd" (no memfd), "unsealed" (a
                  memfd without seals)
  --timeout S     give up waiting after S seconds (default 30)
"""
import argparse
import fcntl
import json
import os
import pwd
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framing import (ALL_SEALS, F_GET_SEALS, FD_FLAG,  # noqa: E402
                     netstring, parse_netstrings, send_job as send_frame)

PASS_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
DEFAULT_MSG = (b"From: Sender <sender@test.example>\nTo: rcpt@example.com\n"
               b"Subject: a test message\nMessage-ID: <t1@test.example>\n\n"
               b"hello\n")






def attr_value(value):
    if value.startswith("@"):
        with open(value[1:], "rb") as f:
            return f.read()
    return value.encode()


def job_payload(opts, size, attrs):
    items = [("v", b"1"), ("id", b"0000000000A"), ("kind", opts.kind.encode()),
             ("to", opts.to.encode()), ("sender", opts.sender.encode()),
             ("arrival", str(opts.arrival).encode()),
             ("size", str(size).encode())]
    index, explicit = 0, False
    for a in attrs:
        name, value = a.split("=", 1)
        if name == "rcpt":
            explicit = True
        elif name == "addr":
            if not explicit:
                items.append(("rcpt", str(index).encode()))
            index += 1
            explicit = False
        items.append((name, attr_value(value)))
    if opts.garbage == "attr":
        items.append(("colour", b"blue"))
    return b"".join(netstring(n, v) for n, v in items)






def read_all(sock, deadline):
    """Every byte and descriptor until end of file (or the deadline)."""
    data, fds = b"", []
    while True:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            chunk, got, _, _ = socket.recv_fds(sock, 1 << 20, 8)
        except (socket.timeout, ConnectionResetError):
            break
        data += chunk
        fds += got
        if not chunk:
            break
    return data, fds


def take_results(data, fds, out):
    results = []
    while len(data) >= 4:
        h = struct.unpack(">I", data[:4])[0]
        n = h & ~FD_FLAG
        if len(data) < 4 + n:
            break
        r = dict(parse_netstrings(data[4:4 + n]))
        data = data[4 + n:]
        if h & FD_FLAG:
            fd = fds.pop(0)
            r["sealed"] = fcntl.fcntl(fd, F_GET_SEALS) & ALL_SEALS == ALL_SEALS
            path = out if not results else "%s.%d" % (out, len(results))
            os.lseek(fd, 0, os.SEEK_SET)
            with open(path, "wb") as f:
                while True:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    f.write(chunk)
            os.close(fd)
            r["notice"] = path
        results.append(r)
    return results, data


def command(opts):
    cmd = [opts.bin, "-c", opts.conf]
    if opts.setpriv and os.getuid() == 0:
        pw = pwd.getpwnam(opts.setpriv)
        cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
               "--clear-groups"] + cmd
    return cmd


def parse(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("conf")
    ap.add_argument("--kind", default="failure")
    ap.add_argument("--to", default="sender@test.example")
    ap.add_argument("--sender", default="sender@test.example")
    ap.add_argument("--arrival", type=int,
                    default=int((time.time() - 3600) * 1e6))
    ap.add_argument("--size", type=int)
    ap.add_argument("--msg")
    ap.add_argument("--out", default="notice.eml")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--setpriv")
    ap.add_argument("--garbage")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("attrs", nargs="*")
    opts = ap.parse_intermixed_args(argv)
    opts.bin = os.path.abspath(opts.bin)
    opts.conf = os.path.abspath(opts.conf)
    return opts


def run(opts):
    content = DEFAULT_MSG
    if opts.msg:
        with open(opts.msg, "rb") as f:
            content = f.read()
    size = opts.size if opts.size is not None else len(content)
    payload = job_payload(opts, size, opts.attrs)
    env = {"PATH": "/usr/bin:/bin", "POSTERN_CONFIG": opts.conf}
    env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})

    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    start = time.time()
    proc = subprocess.Popen(command(opts), stdin=child, stdout=child,
                            stderr=subprocess.PIPE, env=env, cwd="/")
    child.close()
    try:
        for _ in range(opts.repeat):
            send_frame(parent, opts.garbage, payload, content)
        parent.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, fds = read_all(parent, start + opts.timeout)
    parent.close()
    try:
        rc = proc.wait(timeout=max(1, start + opts.timeout - time.time()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    results, rest = take_results(data, fds, opts.out)
    out = {"exit": rc, "results": results,
           "seconds": round(time.time() - start, 2),
           "stderr": proc.stderr.read().decode("utf-8", "replace")}
    proc.stderr.close()
    if rest or fds:
        out["raw"] = rest.decode("latin-1")
        out["stray_fds"] = len(fds)
        for fd in fds:
            os.close(fd)
    return out


def main():
    if sys.argv[1:2] == ["--batch"]:
        d = sys.argv[2]
        for name in sys.argv[3:]:
            with open(os.path.join(d, name + ".args"), "rb") as f:
                argv = [os.fsdecode(a) for a in f.read().split(b"\0")[:-1]]
            with open(os.path.join(d, name + ".json"), "w") as f:
                json.dump(run(parse(argv)), f)
                f.write("\n")
        return
    json.dump(run(parse(sys.argv[1:])), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
