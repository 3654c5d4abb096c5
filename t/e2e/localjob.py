#!/usr/bin/python3
"""localjob - drive postern-local directly, without the queue manager.

  localjob.py BIN CONFDIR [options] ATTR...

Builds one job frame (common/local_proto.h): the job attributes v, id,
sender, arrival and user, then the ATTRs in order ("name=value"; each
"addr=" starts a new recipient whose rcpt index is given automatically,
unless an explicit "rcpt=" came just before it). The message content
travels as a sealed memfd (common/memfd.h) on the frame (common/ipc.h: a
4-byte big-endian header whose top bit says a descriptor rides along,
then netstrings "LEN:name=value,").

The worker is spawned with one end of a socketpair as its fd 0 and 1 and
a clean environment (PATH, POSTERN_CONFIG, plus POSTERN_FAULT,
POSTERN_CRASH, POSTERN_COMMAND_TIME_LIMIT and the sanitizer options when
set), as --as USER when that is given (root only). Prints one JSON object:
  {"exit": CODE (negative: killed by that signal),
   "results": [{"rcpt", "result", "status", "text", "fwd": [...]}] or null,
   "stderr": "...", "seconds": N}

Options:
  --as USER       run the worker as this user (setgroups/setgid/setuid)
  --user NAME     the job's "user" (default: the user it runs as)
  --sender ADDR   envelope sender (default sender@test.example; "" null)
  --msg FILE      the content (default: a small message)
  --garbage WHAT  send a bad job instead: "bytes" (not a frame), "attr"
                  (an unknown attribute), "nofd" (no memfd), "unsealed"
                  (a memfd without seals)
  --timeout S     give up waiting after S seconds (default 120)
"""
import argparse
import json
import os
import pwd
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from framing import (FD_FLAG, netstring,  # noqa: E402
                     parse_netstrings, send_job as send_frame)

PASS_ENV = ("POSTERN_FAULT", "POSTERN_CRASH", "POSTERN_COMMAND_TIME_LIMIT",
            "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
DEFAULT_MSG = b"Subject: test\nFrom: a@test.example\n\nhello\n"






def job_payload(opts, user, attrs):
    items = [("v", "1"), ("id", "0000000000A"), ("sender", opts.sender),
             ("arrival", str(int(time.time() * 1e6))), ("user", user)]
    index, explicit = 0, False
    for a in attrs:
        name, value = a.split("=", 1)
        if name == "rcpt":
            explicit = True
        elif name == "addr":
            if not explicit:
                items.append(("rcpt", str(index)))
            index += 1
            explicit = False
        items.append((name, value))
    if opts.garbage == "attr":
        items.append(("colour", "blue"))
    return b"".join(netstring(n, v) for n, v in items)




def become(user):
    pw = pwd.getpwnam(user)

    def preexec():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return preexec




def read_result(sock, deadline):
    data = b""
    sock.settimeout(max(1, deadline - time.time()))
    while True:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    if len(data) < 4:
        return None, data
    n = struct.unpack(">I", data[:4])[0] & ~FD_FLAG
    return data[4:4 + n], data


def group_results(payload):
    results, version = [], None
    for name, value in parse_netstrings(payload):
        if name == "v":
            version = value
        elif name == "rcpt":
            results.append({"rcpt": value, "fwd": []})
        elif name == "fwd":
            results[-1]["fwd"].append(value)
        else:
            results[-1][name] = value
    if version != "1":
        raise ValueError("result version %r" % version)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("conf")
    ap.add_argument("--as", dest="as_user")
    ap.add_argument("--user")
    ap.add_argument("--sender", default="sender@test.example")
    ap.add_argument("--msg")
    ap.add_argument("--garbage")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("attrs", nargs="*")
    opts = ap.parse_intermixed_args()
    opts.bin = os.path.abspath(opts.bin)
    opts.conf = os.path.abspath(opts.conf)

    content = DEFAULT_MSG
    if opts.msg:
        with open(opts.msg, "rb") as f:
            content = f.read()
    runs_as = opts.as_user or pwd.getpwuid(os.getuid()).pw_name
    payload = job_payload(opts, opts.user or runs_as, opts.attrs)
    env = {"PATH": "/usr/bin:/bin", "POSTERN_CONFIG": opts.conf}
    env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})

    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    start = time.time()
    proc = subprocess.Popen(
        [opts.bin, "-c", opts.conf], stdin=child, stdout=child,
        stderr=subprocess.PIPE, env=env, cwd="/",
        preexec_fn=become(opts.as_user) if opts.as_user else None)
    child.close()
    send_frame(parent, opts.garbage, payload, content)
    frame, raw = read_result(parent, start + opts.timeout)
    try:
        rc = proc.wait(timeout=max(1, start + opts.timeout - time.time()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    out = {"exit": rc, "results": None, "seconds": round(time.time() - start, 2),
           "stderr": proc.stderr.read().decode("utf-8", "replace")}
    if frame is not None:
        out["results"] = group_results(frame)
    elif raw:
        out["raw"] = raw.decode("latin-1")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
