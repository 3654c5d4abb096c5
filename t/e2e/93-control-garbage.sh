# 93-control-garbage: the control socket takes untrusted input. Raw
# clients send what posternctl never would, and each gets a clear error
# (a last frame with status 64 and a reason), or, for a frame cut short,
# a closed connection, while the queue manager goes on and the queue is
# untouched:
#  - bytes that are not attributes, a frame longer than the limit, a
#    length prefix that promises more than comes;
#  - version 2, an unknown verb, an unknown attribute, a repeated one;
#  - an id that is not a queue id, more ids than allowed, show with two
#    ids, a state that does not exist, an older_than that is not a
#    number;
#  - a changing verb with nothing named.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr
printf 'Subject: keep\n\nx\n' | inject -f root@test.example x@a.example ||
    fail "inject"
wait_log 'status=deferred' || fail "not deferred: $(cat "$T/log")"
before=$(ctl queue --json)

"$PY" - "$T/run/control" <<'PY' || fail "the control socket took garbage"
import socket, struct, sys

path = sys.argv[1]

def attrs(*pairs):
    out = b""
    for k, v in pairs:
        body = k.encode() + b"=" + (v if isinstance(v, bytes) else v.encode())
        out += str(len(body)).encode() + b":" + body + b","
    return out

def ask(payload=None, raw=None):
    """send one frame (or raw bytes); the answer's last frame as a dict,
    or None when the connection was closed without one"""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(15)
    s.connect(path)
    try:
        s.sendall(raw if raw is not None else
                  struct.pack(">I", len(payload)) + payload)
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except ConnectionResetError:
        pass
    s.close()
    last = None
    while len(data) >= 4:
        n = struct.unpack(">I", data[:4])[0]
        frame, data = data[4:4 + n], data[4 + n:]
        a, pos = {}, 0
        while pos < len(frame):
            colon = frame.index(b":", pos)
            ln = int(frame[pos:colon])
            body = frame[colon + 1:colon + 1 + ln]
            k, _, v = body.partition(b"=")
            a[k.decode()] = v.decode("utf-8", "replace")
            pos = colon + 2 + ln
        last = a
    return last

def want(answer, status, text, what):
    if answer is None or answer.get("status") != str(status) or \
            text not in answer.get("error", ""):
        sys.exit(f"{what}: got {answer}, want status {status} and '{text}'")

V = ("v", "1")
want(ask(b"this is not an attribute list"), 64, "bad request", "garbage")
want(ask(attrs(("v", "2"), ("verb", "status"))), 64, "bad request",
     "version 2")
want(ask(attrs(V, ("verb", "frobnicate"))), 64, "unknown verb", "verb")
want(ask(attrs(V, ("verb", "queue"), ("colour", "blue"))), 64,
     "bad request", "unknown attribute")
want(ask(attrs(V, ("verb", "queue"), ("json", "1"), ("json", "1"))), 64,
     "bad request", "repeated attribute")
want(ask(attrs(V, ("verb", "queue"), ("id", "lowercase!!"))), 64,
     "not a queue id", "bad id")
want(ask(attrs(V, ("verb", "hold"), *[("id", "0000000000A")] * 10001)), 64,
     "too many ids", "too many ids")
want(ask(attrs(V, ("verb", "show"), ("id", "0000000000A"),
               ("id", "0000000000B"))), 64, "show takes one id", "show 2")
want(ask(attrs(V, ("verb", "queue"), ("state", "sleeping"))), 64,
     "unknown state", "state")
want(ask(attrs(V, ("verb", "queue"), ("older_than", "-5"))), 64,
     "bad request", "older_than")
want(ask(attrs(V, ("verb", "delete"))), 64, "name messages", "bare delete")
# longer than a request may be: refused as soon as the length is read
big = attrs(V, ("verb", "route"), ("address", "a" * 300000))
want(ask(big), 64, "bad request", "oversized")
# a length that promises more than comes, then the client goes away
if ask(raw=struct.pack(">I", 1000) + b"10:v=1,") is not None:
    sys.exit("a short frame was answered")
# still serving
a = ask(attrs(V, ("verb", "status")))
if a is None or a.get("status") != "0":
    sys.exit(f"status after the garbage: {a}")
PY
ctl status | grep -q "^postern-qmgr is running, pid $QPID" ||
    fail "the queue manager is not well"
[ "$(ctl queue --json)" = "$before" ] || fail "the queue changed"
grep -q 'held by\|deleted by' "$T/log" && fail "something was changed"
stop_qmgr
echo ok
