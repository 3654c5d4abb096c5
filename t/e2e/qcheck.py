#!/usr/bin/python3
"""qcheck - checks on a postern queue for the end-to-end tests.

  qcheck.py ledger CONFDIR BUILD LEDGER [ATTEMPTED]
      LEDGER is a directory of files NAME.msg (the message as injected)
      and NAME.rcpt (one recipient per line); every ledger entry must be
      in the queue exactly once (matched by its X-Test-Token header), with
      those recipients, and its stored content must end with the injected
      message byte for byte (postern adds headers in front). ATTEMPTED,
      in the same layout, holds messages whose injection may or may not
      have succeeded: those found in the queue must be whole too.
      Prints "ok N messages" or the problems, exit 1.
"""
import json
import os
import subprocess
import sys


def ctl(conf, build, *args):
    return subprocess.run([os.path.join(build, "posternctl"), "-c", conf]
                          + list(args), check=True,
                          stdout=subprocess.PIPE).stdout


def token_of(content):
    for line in content.split(b"\n"):
        if line == b"":
            break
        if line.lower().startswith(b"x-test-token:"):
            return line.split(b":", 1)[1].strip().decode()
    return None


def read_dir(ldir):
    found = {}
    for name in os.listdir(ldir):
        if name.endswith(".msg"):
            base = name[:-4]
            with open(os.path.join(ldir, name), "rb") as f:
                msg = f.read()
            with open(os.path.join(ldir, base + ".rcpt")) as f:
                rcpts = sorted(line.strip() for line in f if line.strip())
            found[token_of(msg)] = (msg, rcpts)
    return found


def ledger(conf, build, ldir, attempted=None):
    want = read_dir(ldir)
    maybe = read_dir(attempted) if attempted else {}
    seen = {}
    problems = []
    for line in ctl(conf, build, "queue", "--json").splitlines():
        m = json.loads(line)
        content = ctl(conf, build, "show", m["id"], "--content")
        tok = token_of(content)
        if tok in seen:
            problems.append("token %s stored twice (%s, %s)"
                            % (tok, seen[tok], m["id"]))
            continue
        seen[tok] = m["id"]
        if tok not in want and tok not in maybe:
            continue
        msg, rcpts = want[tok] if tok in want else maybe[tok]
        got = sorted(r["address"] for r in m["recipients"])
        if got != rcpts:
            problems.append("%s: recipients %s, want %s" % (tok, got, rcpts))
        body = msg if msg.endswith(b"\n") else msg + b"\n"
        if not content.endswith(body):
            problems.append("%s: content differs" % tok)
        if m["size"] != len(content):
            problems.append("%s: size %d, content %d"
                            % (tok, m["size"], len(content)))
    for tok in want:
        if tok not in seen:
            problems.append("token %s is not in the queue" % tok)
    if problems:
        print("\n".join(problems[:50]))
        return 1
    print("ok %d messages" % len(want))
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "ledger":
        sys.exit(ledger(*sys.argv[2:6]))
    sys.exit(2)
