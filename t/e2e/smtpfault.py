#!/usr/bin/python3
"""smtpfault - a scripted SMTP server that misbehaves on purpose, for tests.

  smtpfault.py --listen [NAME=]HOST:PORT [--listen ...] --record DIR
               [--script FILE.json] [--tls-cert CERT --tls-key KEY] [-v]

Each --listen opens one listener (PORT 0: the kernel picks one; IPv6 as
[::1]:PORT). NAME (letters, digits, "_", "-", ".") names it in the script,
the ready lines and the records; without it the name is HOST:PORT as
written. When every listener is open it prints one line per listener on
stdout,

  ready NAME HOST PORT

and serves until killed. A listener that cannot be opened (the port is
busy, say) is an error: a message on stderr, exit 2, no ready line.
Python's stdlib only; a thread per connection.

THE SCRIPT (JSON). Settings at the top level apply to every listener;
"listeners" maps a listener's name to settings that replace those keys for
it; "per_connection" (at either level) maps connection numbers on the
listener ("1", "2-3", "4-") to settings for those connections. Each layer
replaces whole keys (no deep merge). The script is re-read when its file
changes (checked at each new connection; write it elsewhere and mv it into
place); a script that does not load is reported on stderr and the previous
one stays. Unknown keys and unknown behaviour names are errors.

Example:

  {"ehlo": ["PIPELINING", "SIZE 1000000", "8BITMIME", "STARTTLS"],
   "rcpt": {"bad*@*": "550 5.1.1 no such user",
            "later*@*": "450 4.2.1 try again later"},
   "listeners": {
     "mx1": {"greeting": "554"},
     "mx2": {"per_connection": {"1": {"greeting": "refuse"}}},
     "slow": {"stall": {"RCPT": 30}, "dot": {"delay": 5, "reply": "250 ok"}},
     "bad": {"replies": {"EHLO": "mismatched-multiline"}},
     "tls": {"ehlo": ["STARTTLS"], "starttls": "broken"}}}

A REPLY, wherever the script gives one, is:
  "250 2.1.0 ok"        one line; CRLF is added. Text is sent as UTF-8.
  "554"                 a bare code: a generic text is added ("554 rejected")
  ["250-a", "250 b"]    several lines sent as written (so the dashes are
                        yours to get right, or wrong); CRLF after each
  {"raw": "25\\r\\n"}     exactly these bytes (char U+00XX is byte XX)
  {"raw_b64": "..."}    exactly these bytes, base64
  {"reply": R, "delay": S, "trickle": S, "close": true}
                        R (any of the above or a behaviour name; without
                        it, the reply the server would have sent), after
                        S seconds of silence ("delay"), one byte every S
                        seconds ("trickle"), then close the connection
                        ("close"). Any reply that starts with "421" also
                        closes the connection after it is sent.
  a behaviour name, instead of a reply (CODE is the code the server would
  have used at that point, e.g. 220 for the greeting, 250 for MAIL):
    "drop", "refuse"      close the connection, say nothing
    "reset"               close with a TCP RST (SO_LINGER 0)
    "stall"               say nothing; read and discard until the client
                          leaves
    "no-crlf"             "CODE no line end" without CRLF, then stall
    "long-line"           CODE and 1,000,000 bytes without CRLF, then stall
    "garbage-code"        "abc not a reply code\\r\\n"
    "mismatched-multiline" "CODE-first line\\r\\n550 last line...\\r\\n"
                          (250 instead of 550 when CODE is 550)
    "short-continuation"  "CODE-a\\r\\nCODE\\r\\n" (the CVE-2020-8794 shape)
    "huge-multiline"      "huge_lines" (default 100,000) lines "CODE-..."
                          then "CODE end"
    "endless"             "CODE-..." lines for ever, until the client leaves

SETTINGS (table SETTINGS below; "VERB" is a command word in capitals):
  hostname        name in the greeting and replies (default "mx.test")
  greeting        REPLY (default "220 mx.test ESMTP smtpfault")
  ehlo            capabilities advertised, in order, e.g. ["PIPELINING",
                  "SIZE 1000", "8BITMIME", "SMTPUTF8", "DSN", "STARTTLS",
                  "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]. Default:
                  PIPELINING 8BITMIME SMTPUTF8 DSN ENHANCEDSTATUSCODES, and
                  STARTTLS when a certificate is loaded. STARTTLS is never
                  advertised once TLS is on. "SIZE n" is also enforced: MAIL
                  with SIZE= over n, or a body over n, gets 552 5.3.4.
  ehlo_after_tls  capabilities after STARTTLS (default: those of "ehlo")
  ehlo_refused    true: EHLO gets "502 5.5.2 EHLO not supported" (HELO works)
  mail            REPLY to MAIL FROM, or {"pattern": REPLY, ...} matched in
                  order against the sender address (fnmatch, case-folded;
                  "" is the null sender); no match: the normal reply.
                  An object here is always a pattern map: to delay every
                  reply, {"*": {"delay": 5}}
  rcpt            the same for RCPT TO, matched against the recipient
  data            REPLY to DATA (default 354; anything not 3xx: no data phase)
  dot             REPLY to the end of data (default "250 2.0.0 Ok: queued")
  replies         {"VERB": REPLY} for any other command: EHLO (instead of
                  the capability list), HELO, RSET, NOOP, QUIT, VRFY, AUTH
                  (its final reply), or any unknown verb
  starttls        "ok" (default: 220 and a real handshake, 454 without a
                  certificate), "broken" (220, then garbage instead of a TLS
                  ServerHello, then close), or a REPLY
  auth_users      {"user": "password"}: AUTH PLAIN/LOGIN accept only these
                  (default: any credentials are accepted)
  421_after       N: the first N commands are answered normally; command
                  N+1 gets "421 4.3.2 closing" and the connection is closed
                  (the end of data counts as a command, ".")
  drop_in_data    N: close the connection once N bytes of DATA arrived
  stall           {"VERB": S}: wait S seconds before handling that command
                  ("GREETING" before the greeting, "." before the end of
                  data's reply)
  lenient_dot     true: a "." line ending in LF or CRLF after any line end
                  ends the data ("\\n.\\n", "\\n.\\r\\n", "\\r\\n.\\n"), like a
                  lax server; default: only "\\r\\n.\\r\\n"
  huge_lines      line count for "huge-multiline"
  idle_timeout    seconds without a command before the server hangs up
                  (default 300)
  tls_cert, tls_key  a certificate for this listener instead of --tls-cert
  per_connection  see above

RECORDS. For each transaction (MAIL to the end of data, RSET, QUIT, a new
EHLO or the connection's end) the server writes DIR/NAME-CCCCC-TTT.json
(NAME with anything outside [A-Za-z0-9._-] turned into "_", CCCCC the
connection number on that listener, TTT the transaction number in the
session; 000 for a session that never sent MAIL). It is written before
the transaction's last reply is sent, and the session's last record is
rewritten when the session ends (a test should wait for session_end in
the connection's last record). Bytes are kept exact: strings of protocol
bytes are latin-1 (char U+00XX = byte XX, JSON-escaped when not printable
ASCII); payloads are base64. Fields:
  listener, address, connection, transaction, peer, started, written
  helo, esmtp              the name given in HELO/EHLO, and whether EHLO
  advertised               the capability lines last advertised
  tls, tls_version, tls_cipher, tls_sni, tls_error
                           tls: whether TLS was on when MAIL was received
  starttls_injected        plaintext that followed STARTTLS before the
                           handshake (discarded; CVE-2011-0411 class)
  auth                     {"mechanism", "user", "password", "reply"}
  commands                 every command line received in the session so
                           far, raw with its line end (AUTH exchanges too)
  transcript               the session so far as text lines: "C: " a
                           command (line end removed), "S: " a reply (CRLFs
                           kept inside multi-line ones, "<name>" for a
                           behaviour), "-- " a note (TLS on or failed)
  violations               protocol faults seen in the client so far (bare
                           LF, parameters for extensions not advertised,
                           8-bit data without BODY=8BITMIME, commands sent
                           before the reply they must wait for, ...)
  mail_from, mail_params, mail_reply
  rcpts                    [{"address", "params", "reply"}]
  data_reply
  data_raw_b64, data_raw_length, data_raw_sha256
                           what followed the DATA command on the wire, up to
                           and including the final ".\\r\\n"
  data_b64, data_length, data_sha256
                           the message: dot-unstuffed, end marker removed
                           (after drop_in_data: data_raw holds the N bytes,
                           data is null)
  complete                 the end of data was received
  dot_reply
  txn_end, session_end     why each ended (session_end null while it runs)
Also DIR/connections ({"NAME": count} JSON) and DIR/connections.NAME (the
count alone), updated at each accepted connection.
"""
import argparse
import base64
import fnmatch
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time

COMMAND_CAP = 65536          # a command line longer than this is cut
DATA_CHUNK = 65536           # data is read in pieces of at most this
STALL_LIMIT = 3600           # a stall gives up after this many seconds
CLASS_TEXT = {"2": "ok", "3": "go ahead", "4": "try again later",
              "5": "rejected", "1": "hmm"}
DEFAULT_CAPS = ["PIPELINING", "8BITMIME", "SMTPUTF8", "DSN",
                "ENHANCEDSTATUSCODES"]
# ESMTP parameters and the extension that must be advertised for each
PARAM_EXT = {"SIZE": "SIZE", "BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8",
             "RET": "DSN", "ENVID": "DSN", "NOTIFY": "DSN", "ORCPT": "DSN",
             "AUTH": "AUTH"}
# after these, a client must wait for the reply (RFC 2920 section 3.1)
GROUP_END = {"EHLO", "HELO", "DATA", "STARTTLS", "AUTH", "QUIT", "NOOP",
             "VRFY", "EXPN"}
VERBOSE = False


def log(msg):
    if VERBOSE:
        print(f"smtpfault: {msg}", file=sys.stderr, flush=True)


def latin1(b):
    return bytes(b).decode("latin-1")


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def write_atomic(path, text):
    tmp = os.path.join(os.path.dirname(path),
                       f".tmp-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------- replies

class ScriptError(Exception):
    pass


class Reply:
    """A scripted reply: bytes or a behaviour name (neither: the reply the
    server would have sent), with an optional delay, trickle and close."""
    def __init__(self, data=None, behaviour=None):
        self.data = data
        self.behaviour = behaviour
        self.delay = 0
        self.trickle = 0
        self.close = False


REPLY_KEYS = {"raw", "raw_b64", "reply", "delay", "trickle", "close"}


def parse_reply(value, where):
    if isinstance(value, str):
        if value in REPLY_BEHAVIOURS:
            return Reply(behaviour=value)
        if re.fullmatch(r"\d{3}", value):
            value += " " + CLASS_TEXT.get(value[0], "hmm")
        if not value[:1].isdigit():
            raise ScriptError(f"{where}: {value!r} is neither a reply "
                              f"(\"250 ok\") nor one of "
                              f"{', '.join(sorted(REPLY_BEHAVIOURS))}")
        return Reply(data=(value + "\r\n").encode())
    if isinstance(value, list) and value and \
            all(isinstance(v, str) for v in value):
        return Reply(data="".join(v + "\r\n" for v in value).encode())
    if isinstance(value, dict):
        bad = set(value) - REPLY_KEYS
        if bad:
            raise ScriptError(f"{where}: unknown reply keys {sorted(bad)}")
        if len({"raw", "raw_b64", "reply"} & set(value)) > 1:
            raise ScriptError(f"{where}: give one of raw, raw_b64, reply")
        r = Reply()
        if "raw" in value:
            try:
                r.data = value["raw"].encode("latin-1")
            except (AttributeError, UnicodeEncodeError):
                raise ScriptError(f"{where}: raw must be a string of "
                                  "U+0000-U+00FF") from None
        elif "raw_b64" in value:
            try:
                r.data = base64.b64decode(value["raw_b64"], validate=True)
            except (TypeError, ValueError):
                raise ScriptError(f"{where}: raw_b64 is not base64") from None
        elif "reply" in value:
            inner = parse_reply(value["reply"], where)
            r.data, r.behaviour = inner.data, inner.behaviour
        for k in ("delay", "trickle"):
            v = value.get(k, 0)
            if not isinstance(v, (int, float)) or v < 0:
                raise ScriptError(f"{where}: {k} must be seconds")
            setattr(r, k, v)
        r.close = bool(value.get("close", False))
        return r
    raise ScriptError(f"{where}: a reply is a string, a list of lines "
                      "or an object")


def parse_reply_or_patterns(value, where):
    """mail / rcpt: one REPLY for all, or {pattern: REPLY} in order."""
    if isinstance(value, dict):
        return [(pat.lower(), parse_reply(r, f"{where}[{pat!r}]"))
                for pat, r in value.items()]
    return [("*", parse_reply(value, where))]


# ------------------------------------------ behaviours (a reply's place)
# Each takes the session and the code the server would have used there.

def b_drop(s, code):
    s.end("dropped (scripted)")


def b_reset(s, code):
    s.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                      struct.pack("ii", 1, 0))
    s.end("reset (scripted)")


def b_stall(s, code):
    s.drain(STALL_LIMIT)
    s.end("stalled (scripted) until the client left")


def b_no_crlf(s, code):
    s.write(f"{code} no line end".encode())
    b_stall(s, code)


def b_long_line(s, code):
    s.write(f"{code} ".encode() + b"x" * 1000000)
    b_stall(s, code)


def b_garbage_code(s, code):
    s.write(b"abc not a reply code\r\n")


def b_mismatched_multiline(s, code):
    other = "250" if code == "550" else "550"
    s.write(f"{code}-first line\r\n{other} last line with another code\r\n"
            .encode())


def b_short_continuation(s, code):
    s.write(f"{code}-a\r\n{code}\r\n".encode())


def b_huge_multiline(s, code):
    n = s.cfg.get("huge_lines", 100000)
    step = 1000
    for i in range(0, n, step):
        s.write("".join(f"{code}-line {j}\r\n"
                        for j in range(i, min(n, i + step))).encode())
    s.write(f"{code} end of {n} lines\r\n".encode())


def b_endless(s, code):
    i = 0
    try:
        while True:
            s.write("".join(f"{code}-endless line {j}\r\n"
                            for j in range(i, i + 1000)).encode())
            i += 1000
    except OSError:
        pass
    s.end(f"endless reply ended by the client after {i} lines")


REPLY_BEHAVIOURS = {
    "drop": b_drop,
    "refuse": b_drop,
    "reset": b_reset,
    "stall": b_stall,
    "no-crlf": b_no_crlf,
    "long-line": b_long_line,
    "garbage-code": b_garbage_code,
    "mismatched-multiline": b_mismatched_multiline,
    "short-continuation": b_short_continuation,
    "huge-multiline": b_huge_multiline,
    "endless": b_endless,
}


# ------------------------------------------------------------- settings
# script key -> parser (value, where) -> the value the session uses

def p_int(v, where):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ScriptError(f"{where}: want a whole number >= 0")
    return v


def p_seconds(v, where):
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
        raise ScriptError(f"{where}: want seconds")
    return v


def p_bool(v, where):
    if not isinstance(v, bool):
        raise ScriptError(f"{where}: want true or false")
    return v


def p_str(v, where):
    if not isinstance(v, str):
        raise ScriptError(f"{where}: want a string")
    return v


def p_caps(v, where):
    if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
        raise ScriptError(f"{where}: want a list of capability strings")
    return v


def p_replies(v, where):
    if not isinstance(v, dict):
        raise ScriptError(f"{where}: want {{\"VERB\": reply}}")
    out = {}
    for verb, r in v.items():
        up = verb.upper()
        if up in ("MAIL", "RCPT", "DATA", ".", "STARTTLS"):
            key = {"MAIL": "mail", "RCPT": "rcpt", "DATA": "data",
                   ".": "dot", "STARTTLS": "starttls"}[up]
            raise ScriptError(f"{where}: use the \"{key}\" setting for {up}")
        out[up] = parse_reply(r, f"{where}.{verb}")
    return out


def p_starttls(v, where):
    if isinstance(v, str) and v in STARTTLS_MODES:
        return v
    return parse_reply(v, where)


def p_users(v, where):
    if not isinstance(v, dict) or \
            not all(isinstance(p, str) for p in v.values()):
        raise ScriptError(f"{where}: want {{\"user\": \"password\"}}")
    return v


def p_stall(v, where):
    if not isinstance(v, dict):
        raise ScriptError(f"{where}: want {{\"VERB\": seconds}}")
    return {k.upper(): p_seconds(s, f"{where}.{k}") for k, s in v.items()}


def p_file(v, where):
    p_str(v, where)
    if not os.access(v, os.R_OK):
        raise ScriptError(f"{where}: cannot read {v}")
    return v


# script key: (parser, where the setting acts)
SETTINGS = {
    "hostname": (p_str, "Session.__init__"),
    "greeting": (parse_reply, "Session.greet"),
    "ehlo": (p_caps, "cmd_ehlo"),
    "ehlo_after_tls": (p_caps, "cmd_ehlo"),
    "ehlo_refused": (p_bool, "cmd_ehlo"),
    "mail": (parse_reply_or_patterns, "cmd_mail"),
    "rcpt": (parse_reply_or_patterns, "cmd_rcpt"),
    "data": (parse_reply, "cmd_data"),
    "dot": (parse_reply, "cmd_data"),
    "replies": (p_replies, "the cmd_* handlers"),
    "starttls": (p_starttls, "cmd_starttls, STARTTLS_MODES"),
    "auth_users": (p_users, "cmd_auth"),
    "421_after": (p_int, "hook_421_after"),
    "drop_in_data": (p_int, "read_data"),
    "stall": (p_stall, "hook_stall, Session.greet"),
    "lenient_dot": (p_bool, "read_data"),
    "huge_lines": (p_int, "b_huge_multiline"),
    "idle_timeout": (p_seconds, "Session.run"),
    "tls_cert": (p_file, "Server.tls_context"),
    "tls_key": (p_file, "Server.tls_context"),
}


def parse_ranges(v, where):
    if not isinstance(v, dict):
        raise ScriptError(f"{where}: want {{\"N\" or \"N-M\" or \"N-\": "
                          "settings}")
    out = []
    for rng, settings in v.items():
        m = re.fullmatch(r"(\d+)(?:(-)(\d*))?", rng)
        if not m:
            raise ScriptError(f"{where}: bad connection range {rng!r}")
        lo = int(m.group(1))
        hi = lo if not m.group(2) else int(m.group(3)) if m.group(3) else None
        out.append((lo, hi, parse_settings(settings, f"{where}[{rng}]",
                                           nested=False)))
    return out


def parse_settings(obj, where, nested=True):
    if not isinstance(obj, dict):
        raise ScriptError(f"{where}: want an object")
    out = {}
    for key, value in obj.items():
        if key == "per_connection" and nested:
            out[key] = parse_ranges(value, f"{where}.{key}")
        elif key in SETTINGS:
            out[key] = SETTINGS[key][0](value, f"{where}.{key}")
        else:
            raise ScriptError(f"{where}: unknown key {key!r}")
    return out


def load_script(path, names):
    """-> {listener name: settings} with the top level merged in."""
    if path is None:
        raw = {}
    else:
        with open(path) as f:
            try:
                raw = json.load(f)
            except ValueError as e:
                raise ScriptError(f"{path}: {e}") from None
    if not isinstance(raw, dict):
        raise ScriptError(f"{path}: the script is a JSON object")
    raw = dict(raw)
    per = raw.pop("listeners", {})
    if not isinstance(per, dict):
        raise ScriptError("listeners: want {\"NAME\": settings}")
    top = parse_settings(raw, "script")
    for name in per:
        if name not in names:
            raise ScriptError(f"listeners: no --listen is named {name!r} "
                              f"(names: {', '.join(names)})")
    return {name: {**top, **parse_settings(per.get(name, {}),
                                           f"listeners.{name}")}
            for name in names}


# ---------------------------------------------------------------- server

class Listener:
    def __init__(self, spec):
        name, _, addr = spec.rpartition("=")
        m = re.fullmatch(r"\[([^\]]+)\]:(\d+)|([^:\[\]]+):(\d+)", addr)
        if not m:
            raise SystemExit(f"smtpfault: --listen {spec}: want "
                             "[NAME=]HOST:PORT")
        self.host = m.group(1) or m.group(3)
        self.port = int(m.group(2) or m.group(4))
        self.name = name or addr
        if name and not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise SystemExit(f"smtpfault: --listen {spec}: bad name")
        self.family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.sock = None
        self.connections = 0

    def open(self):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(128)
        self.sock = s
        self.port = s.getsockname()[1]

    @property
    def address(self):
        return (f"[{self.host}]:{self.port}" if self.family == socket.AF_INET6
                else f"{self.host}:{self.port}")


class Server:
    def __init__(self, args):
        self.args = args
        self.listeners = [Listener(spec) for spec in args.listen]
        names = [l.name for l in self.listeners]
        if len(set(names)) != len(names):
            raise SystemExit("smtpfault: two listeners have the same name")
        self.record_dir = args.record
        self.lock = threading.Lock()
        self.tls_cache = {}
        self.script_stamp = self.stamp()
        self.config = load_script(args.script, names)

    def stamp(self):
        if not self.args.script:
            return None
        st = os.stat(self.args.script)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload_if_changed(self):
        try:
            stamp = self.stamp()
            if stamp == self.script_stamp:
                return
            self.script_stamp = stamp
            self.config = load_script(self.args.script,
                                      [l.name for l in self.listeners])
            log("script reloaded")
        except (OSError, ScriptError) as e:
            print(f"smtpfault: script not reloaded: {e}", file=sys.stderr,
                  flush=True)

    def tls_context(self, cfg):
        cert = cfg.get("tls_cert", self.args.tls_cert)
        key = cfg.get("tls_key", self.args.tls_key if "tls_cert" not in cfg
                      else None)
        if not cert:
            return None
        with self.lock:
            ctx = self.tls_cache.get((cert, key))
            if ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert, key)
                ctx.sni_callback = sni_seen
                self.tls_cache[(cert, key)] = ctx
        return ctx

    def count_connection(self, lis):
        with self.lock:
            self.reload_if_changed()
            lis.connections += 1
            n = lis.connections
            counts = {l.name: l.connections for l in self.listeners}
            write_atomic(os.path.join(self.record_dir, "connections"),
                         json.dumps(counts, indent=1) + "\n")
            write_atomic(os.path.join(self.record_dir,
                                      f"connections.{safe_name(lis.name)}"),
                         f"{n}\n")
            return n, self.config[lis.name]

    def serve(self, lis):
        while True:
            try:
                sock, peer = lis.sock.accept()
            except OSError as e:
                print(f"smtpfault: accept on {lis.name}: {e}",
                      file=sys.stderr, flush=True)
                time.sleep(0.1)
                continue
            n, cfg = self.count_connection(lis)
            cfg = dict(cfg)
            for lo, hi, over in cfg.pop("per_connection", []):
                if n >= lo and (hi is None or n <= hi):
                    cfg.update(over)
            sess = Session(self, lis, n, cfg, sock, peer)
            threading.Thread(target=sess.run, daemon=True).start()


_tls_local = threading.local()


def sni_seen(sslsock, name, ctx):
    _tls_local.sni = name


# --------------------------------------------------------------- session

class Txn:
    def __init__(self, number, tls):
        self.number = number
        self.tls = tls
        self.mail_from = None
        self.mail_params = ""
        self.mail_reply = None
        self.mail_ok = False
        self.smtputf8 = False
        self.body8 = False
        self.rcpts = []
        self.data_reply = None
        self.raw = None
        self.data = None
        self.complete = False
        self.dot_reply = None
        self.end = None

    @property
    def accepted(self):
        return [r for r in self.rcpts if r["reply"][:1] == "2"]


class Session:
    def __init__(self, server, lis, number, cfg, sock, peer):
        self.server = server
        self.lis = lis
        self.number = number
        self.cfg = cfg
        self.sock = sock
        self.peer = (f"{peer[0]}:{peer[1]}" if lis.family == socket.AF_INET
                     else f"[{peer[0]}]:{peer[1]}")
        self.buf = bytearray()
        self.hostname = cfg.get("hostname", "mx.test")
        self.started = time.time()
        self.helo = None
        self.esmtp = False
        self.advertised = []
        self.tls = False
        self.tls_info = {"tls_version": None, "tls_cipher": None,
                         "tls_sni": None, "tls_error": None}
        self.starttls_injected = None
        self.auth = None
        self.commands = []
        self.transcript = []
        self.violations = []
        self.ncommands = 0
        self.ntxn = 0
        self.txn = None
        self.last_record = None
        self.ended = None

    # ---- I/O

    def write(self, data):
        self.sock.sendall(data)

    def readline(self, cap):
        start = 0
        while True:
            i = self.buf.find(b"\n", start, cap)
            if i >= 0:
                return self.take(i + 1)
            if len(self.buf) >= cap:
                return self.take(cap)
            start = len(self.buf)
            data = self.sock.recv(65536)
            if not data:
                return self.take(len(self.buf))
            self.buf += data

    def take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def drain(self, limit):
        """Read and discard until the client leaves (or `limit` s pass)."""
        deadline = time.time() + limit
        self.buf.clear()
        try:
            while time.time() < deadline:
                self.sock.settimeout(max(0.1, deadline - time.time()))
                if not self.sock.recv(65536):
                    return
        except (OSError, ssl.SSLError):
            return

    def end(self, why):
        if not self.ended:
            self.ended = why

    def violation(self, what):
        if what not in self.violations:
            self.violations.append(what)

    def has_ext(self, word):
        return any(c.split()[:1] == [word] for c in
                   (a.upper() for a in self.advertised))

    def size_limit(self):
        for c in self.advertised:
            f = c.split()
            if len(f) > 1 and f[0].upper() == "SIZE" and f[1].isdigit() \
                    and int(f[1]) > 0:
                return int(f[1])
        return None

    # ---- replies

    def resolve(self, spec, default):
        """The reply to send: `spec` from the script, filled in from the
        `default` reply line where it gives no bytes or behaviour."""
        base = Reply(data=(default + "\r\n").encode())
        if spec is None:
            return base
        if spec.data is None and spec.behaviour is None:
            r = Reply(data=base.data)
            r.delay, r.trickle, r.close = spec.delay, spec.trickle, spec.close
            return r
        return spec

    @staticmethod
    def describe(r):
        if r.behaviour:
            return f"<{r.behaviour}>"
        text = latin1(r.data)
        if text.endswith("\r\n"):
            text = text[:-2]
        return text if len(text) <= 4096 else text[:4096] + "..."

    def send(self, spec, default):
        """Send the scripted reply (or the default one); note it in the
        transcript; return what was sent, as text."""
        r = self.resolve(spec, default)
        text = self.describe(r)
        self.transcript.append("S: " + text)
        self.transmit(r, default[:3])
        return text

    def transmit(self, r, code):
        if r.delay:
            time.sleep(r.delay)
        if r.behaviour:
            REPLY_BEHAVIOURS[r.behaviour](self, code)
        elif r.trickle:
            for i in range(len(r.data)):
                self.write(r.data[i:i + 1])
                time.sleep(r.trickle)
        else:
            self.write(r.data)
        if r.close or (r.data or b"").startswith(b"421"):
            self.end(f"closed after {self.describe(r)[:60]!r}")

    # ---- the session

    def run(self):
        log(f"{self.lis.name}#{self.number}: connection from {self.peer}")
        try:
            self.sock.settimeout(self.cfg.get("idle_timeout", 300))
            self.greet()
            while not self.ended:
                line = self.readline(COMMAND_CAP)
                if not line:
                    self.end("client closed")
                    break
                self.command(line)
        except socket.timeout:
            self.end("idle timeout")
        except (OSError, ssl.SSLError) as e:
            self.end(f"connection error: {e}")
        except Exception as e:  # a bug here must not look like a client bug
            self.end(f"smtpfault internal error: {e!r}")
            print(f"smtpfault: internal error: {e!r}", file=sys.stderr,
                  flush=True)
        finally:
            self.finish()

    def greet(self):
        delay = self.cfg.get("stall", {}).get("GREETING")
        if delay:
            time.sleep(delay)
        self.send(self.cfg.get("greeting"),
                  f"220 {self.hostname} ESMTP smtpfault")

    def command(self, line):
        self.commands.append(latin1(line))
        self.transcript.append("C: " + latin1(line).rstrip("\r\n"))
        if not line.endswith(b"\n"):
            self.end("client closed in the middle of a command line"
                     if len(line) < COMMAND_CAP else "command line too long")
            return
        if not line.endswith(b"\r\n"):
            self.violation("command line ends in a bare LF")
        if len(line) > 512:
            self.violation("command line longer than 512 octets")
        text = latin1(line).rstrip("\r\n")
        verb, _, arg = text.partition(" ")
        verb = verb.upper()
        if self.buf and verb in GROUP_END:
            self.violation(f"sent more before the reply to {verb}")
        elif self.buf and not self.has_ext("PIPELINING"):
            self.violation(f"sent more before the reply to {verb} "
                           "without PIPELINING")
        self.ncommands += 1
        override = self.before_command(verb)
        if self.ended:
            return
        COMMANDS.get(verb, cmd_unknown)(self, verb, arg, override)

    def before_command(self, verb):
        """Run the per-command hooks; a hook may return a reply that
        replaces the command's own."""
        override = None
        for key, hook in BEFORE_COMMAND:
            if key in self.cfg:
                override = hook(self, verb, self.cfg[key]) or override
        return override

    def read_auth_line(self):
        line = self.readline(COMMAND_CAP)
        self.commands.append(latin1(line))
        self.transcript.append("C: " + latin1(line).rstrip("\r\n"))
        if not line.endswith(b"\n"):
            self.end("client closed during AUTH")
            return None
        return latin1(line).rstrip("\r\n")

    # ---- transactions and records

    def new_txn(self):
        self.ntxn += 1
        self.txn = Txn(self.ntxn, self.tls)
        return self.txn

    def finish_txn(self, why):
        t, self.txn = self.txn, None
        t.end = why
        self.write_record(t)

    def write_record(self, t):
        rec = {
            "listener": self.lis.name, "address": self.lis.address,
            "connection": self.number,
            "transaction": t.number if t else 0,
            "peer": self.peer, "started": self.started,
            "written": time.time(),
            "helo": self.helo, "esmtp": self.esmtp,
            "advertised": self.advertised,
            "tls": t.tls if t else self.tls, **self.tls_info,
            "starttls_injected": self.starttls_injected,
            "auth": self.auth,
            "commands": list(self.commands),
            "transcript": list(self.transcript),
            "violations": list(self.violations),
            "mail_from": t.mail_from if t else None,
            "mail_params": t.mail_params if t else None,
            "mail_reply": t.mail_reply if t else None,
            "rcpts": t.rcpts if t else [],
            "data_reply": t.data_reply if t else None,
            "complete": t.complete if t else False,
            "dot_reply": t.dot_reply if t else None,
            "txn_end": t.end if t else None,
            "session_end": self.ended,
        }
        for key, blob in (("data_raw", t and t.raw), ("data", t and t.data)):
            rec[f"{key}_b64"] = (base64.b64encode(blob).decode()
                                 if blob is not None else None)
            rec[f"{key}_length"] = len(blob) if blob is not None else None
            rec[f"{key}_sha256"] = (hashlib.sha256(blob).hexdigest()
                                    if blob is not None else None)
        path = os.path.join(self.server.record_dir,
                            f"{safe_name(self.lis.name)}-{self.number:05d}-"
                            f"{rec['transaction']:03d}.json")
        write_atomic(path, json.dumps(rec, indent=1) + "\n")
        self.last_record = t

    def finish(self):
        self.end("ended")
        try:
            if self.txn:
                self.finish_txn(self.ended)
            else:
                self.write_record(self.last_record)
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
        log(f"{self.lis.name}#{self.number}: {self.ended}")


# ------------------------------------------------------ per-command hooks
# script key -> hook(session, verb, value) run before every command

def hook_stall(s, verb, table):
    if verb in table:
        time.sleep(table[verb])


def hook_421_after(s, verb, n):
    if s.ncommands > n:
        return Reply(data=f"421 4.3.2 {s.hostname} closing connection\r\n"
                     .encode())
    return None


BEFORE_COMMAND = [("stall", hook_stall), ("421_after", hook_421_after)]


# ------------------------------------------------------- command handlers
# verb -> handler(session, verb, argument, override reply or None)

def scripted(s, verb):
    return s.cfg.get("replies", {}).get(verb)


def cmd_ehlo(s, verb, arg, override):
    if s.txn:
        s.finish_txn("EHLO")
    spec = override or scripted(s, "EHLO")
    if spec is None and s.cfg.get("ehlo_refused"):
        spec = parse_reply("502 5.5.2 EHLO not supported", "ehlo_refused")
    if spec is not None:
        text = s.send(spec, "250 " + s.hostname)
        if text[:1] == "2":
            s.helo, s.esmtp, s.advertised = arg, True, []
        return
    if s.tls and "ehlo_after_tls" in s.cfg:
        caps = list(s.cfg["ehlo_after_tls"])
    elif "ehlo" in s.cfg:
        caps = list(s.cfg["ehlo"])
    else:
        caps = list(DEFAULT_CAPS)
        if s.server.tls_context(s.cfg):
            caps.append("STARTTLS")
    if s.tls:
        caps = [c for c in caps if c.upper() != "STARTTLS"]
    lines = [f"{s.hostname} greets {arg}"] + caps
    s.send(parse_reply([f"250{'-' if i < len(lines) - 1 else ' '}{l}"
                        for i, l in enumerate(lines)], "ehlo"),
           "250 " + s.hostname)
    s.helo, s.esmtp, s.advertised = arg, True, caps


def cmd_helo(s, verb, arg, override):
    if s.txn:
        s.finish_txn("HELO")
    text = s.send(override or scripted(s, "HELO"), "250 " + s.hostname)
    if text[:1] == "2":
        s.helo, s.esmtp, s.advertised = arg, False, []


def parse_path(s, arg, word):
    """"FROM:<a@b> PARAMS" -> (address, params) or None."""
    if not arg.upper().startswith(word):
        return None
    rest = arg[len(word):]
    if rest.startswith(" "):
        s.violation(f"space after {word}")
        rest = rest.lstrip(" ")
    if rest.startswith("<"):
        end = rest.find(">")
        if end < 0:
            return None
        addr, params = rest[1:end], rest[end + 1:].strip()
    else:
        s.violation(f"{word} path without angle brackets")
        addr, _, params = rest.partition(" ")
    addr = addr.encode("latin-1").decode("utf-8", "replace")
    return addr, params


def check_params(s, verb, params):
    for p in params.split():
        key = p.split("=", 1)[0].upper()
        ext = PARAM_EXT.get(key)
        if ext is None:
            s.violation(f"{verb} parameter {key} is unknown")
        elif not s.esmtp or not s.has_ext(ext):
            s.violation(f"{verb} parameter {key} without {ext} advertised")


def match(s, key, addr):
    for pat, r in s.cfg.get(key, []):
        if fnmatch.fnmatchcase(addr.lower(), pat):
            return r
    return None


def cmd_mail(s, verb, arg, override):
    t = s.txn
    if t and t.mail_ok:
        s.send(override, "503 5.5.1 nested MAIL command")
        return
    if t:
        s.finish_txn("new MAIL")
    path = parse_path(s, arg, "FROM:")
    if path is None:
        s.send(override, "501 5.5.4 syntax: MAIL FROM:<address>")
        return
    t = s.new_txn()
    t.mail_from, t.mail_params = path
    check_params(s, "MAIL", t.mail_params)
    upper = t.mail_params.upper().split()
    t.smtputf8 = "SMTPUTF8" in upper
    t.body8 = any(p in upper for p in ("BODY=8BITMIME", "BODY=BINARYMIME"))
    if not t.mail_from.isascii() and not t.smtputf8:
        s.violation("non-ASCII sender without SMTPUTF8")
    default = "250 2.1.0 sender ok"
    size = next((p[5:] for p in upper if p.startswith("SIZE=")), None)
    if s.helo is None:
        s.violation("MAIL before HELO/EHLO")
        default = "503 5.5.1 send HELO or EHLO first"
    elif size and size.isdigit() and s.size_limit() and \
            int(size) > s.size_limit():
        default = "552 5.3.4 message size exceeds fixed limit"
    t.mail_reply = s.send(override or match(s, "mail", t.mail_from),
                          default)
    t.mail_ok = t.mail_reply[:1] == "2"


def cmd_rcpt(s, verb, arg, override):
    t = s.txn
    if not t or not t.mail_ok:
        s.send(override, "503 5.5.1 need MAIL before RCPT")
        return
    path = parse_path(s, arg, "TO:")
    if path is None:
        s.send(override, "501 5.5.4 syntax: RCPT TO:<address>")
        return
    addr, params = path
    check_params(s, "RCPT", params)
    if not addr.isascii() and not t.smtputf8:
        s.violation("non-ASCII recipient without SMTPUTF8")
    entry = {"address": addr, "params": params, "reply": None}
    t.rcpts.append(entry)
    entry["reply"] = s.send(override or match(s, "rcpt", addr),
                            "250 2.1.5 recipient ok")


def cmd_data(s, verb, arg, override):
    t = s.txn
    if not t or not t.mail_ok:
        s.send(override, "503 5.5.1 need MAIL before DATA")
        return
    if not t.accepted:
        s.send(override, "554 5.5.1 no valid recipients")
        return
    r = s.resolve(override or s.cfg.get("data"),
                  "354 end data with <CR><LF>.<CR><LF>")
    t.data_reply = s.describe(r)
    s.transcript.append("S: " + t.data_reply)
    s.transmit(r, "354")
    if s.ended or t.data_reply[:1] != "3":
        return
    if not read_data(s, t):
        return
    s.ncommands += 1
    override = s.before_command(".")
    default = f"250 2.0.0 Ok: queued as {s.number}.{t.number}"
    limit = s.size_limit()
    if limit and len(t.data) > limit:
        default = "552 5.3.4 message size exceeds fixed limit"
    r = s.resolve(override or s.cfg.get("dot"), default)
    t.dot_reply = s.describe(r)
    s.transcript.append(f"C: <message, {len(t.raw)} bytes on the wire, "
                        "end of data>")
    s.transcript.append("S: " + t.dot_reply)
    s.finish_txn("end of data")
    s.transmit(r, default[:3])


def read_data(s, t):
    """Read the message up to the end marker, keeping the wire bytes and
    the dot-unstuffed content; False when the connection went away."""
    raw, data = bytearray(), bytearray()
    t.raw, t.data = raw, data
    drop = s.cfg.get("drop_in_data")
    lenient = s.cfg.get("lenient_dot", False)
    at_start, prev_crlf, tail = True, True, b""
    while True:
        chunk = s.readline(DATA_CHUNK)
        if drop is not None and len(raw) + len(chunk) >= drop:
            raw += chunk[:drop - len(raw)]
            t.data = None
            s.end(f"dropped (scripted) in DATA after {len(raw)} bytes")
            return False
        if not chunk:
            s.end("client closed during DATA")
            return False
        raw += chunk
        if at_start:
            if (chunk == b".\r\n" and prev_crlf) or \
                    (lenient and chunk in (b".\r\n", b".\n")):
                break
            if chunk.startswith(b"."):
                chunk = chunk[1:]
        data += chunk
        if chunk.endswith(b"\n"):
            prev_crlf = (tail + chunk).endswith(b"\r\n")
            at_start, tail = True, b""
        else:
            at_start, tail = False, chunk[-1:]
    t.complete = True
    t.raw, t.data = bytes(raw), bytes(data)
    data_violations(s, t)
    return True


def data_violations(s, t):
    raw = t.raw
    if re.search(rb"(?<!\r)\n", raw):
        s.violation("bare LF in DATA")
    if re.search(rb"\r(?!\n)", raw):
        s.violation("bare CR in DATA")
    # the server stops at the first CRLF.CRLF, so a lax marker before it
    # (LF.CRLF, CRLF.CR, ...) is what a laxer receiver might take for the
    # end of data: the SMTP-smuggling class
    if re.search(rb"[\r\n]\.[\r\n]", (b"\n" + raw)[:-3]):
        s.violation("a lax end-of-data marker inside DATA (smuggling)")
    if max(map(len, raw.split(b"\n"))) > 999:
        s.violation("DATA line longer than 1000 octets")
    if re.search(rb"[\x80-\xff]", raw) and not (t.body8 or t.smtputf8):
        s.violation("8-bit DATA without BODY=8BITMIME")


def cmd_rset(s, verb, arg, override):
    if s.txn:
        s.finish_txn("RSET")
    s.send(override or scripted(s, "RSET"), "250 2.0.0 reset")


def cmd_noop(s, verb, arg, override):
    s.send(override or scripted(s, verb), "250 2.0.0 ok")


def cmd_vrfy(s, verb, arg, override):
    s.send(override or scripted(s, verb), "252 2.5.2 cannot verify")


def cmd_quit(s, verb, arg, override):
    if s.txn:
        s.finish_txn("QUIT")
    s.end("quit")
    s.send(override or scripted(s, verb), "221 2.0.0 bye")


def cmd_unknown(s, verb, arg, override):
    s.send(override or scripted(s, verb),
           "500 5.5.2 command not recognized")


def cmd_starttls(s, verb, arg, override):
    if not s.has_ext("STARTTLS"):
        s.violation("STARTTLS not advertised")
    if s.tls:
        s.send(override, "503 5.5.1 TLS already active")
        return
    mode = override or s.cfg.get("starttls", "ok")
    if isinstance(mode, Reply):
        s.send(mode, "220 2.0.0 ready to start TLS")
    else:
        STARTTLS_MODES[mode](s, verb)


def starttls_ok(s, verb):
    ctx = s.server.tls_context(s.cfg)
    if ctx is None:
        s.send(None, "454 4.7.0 TLS not available")
        return
    s.send(None, "220 2.0.0 ready to start TLS")
    if s.buf:
        s.starttls_injected = latin1(s.buf)
        s.violation("plaintext sent after STARTTLS before the handshake")
        s.buf.clear()
    _tls_local.sni = None
    try:
        tsock = ctx.wrap_socket(s.sock, server_side=True,
                                do_handshake_on_connect=False)
        s.sock = tsock
        tsock.do_handshake()
    except (OSError, ssl.SSLError) as e:
        s.tls_info["tls_error"] = str(e)
        s.transcript.append(f"-- TLS handshake failed: {e}")
        s.end(f"TLS handshake failed: {e}")
        return
    s.tls = True
    s.tls_info.update(tls_version=tsock.version(),
                      tls_cipher=tsock.cipher()[0],
                      tls_sni=_tls_local.sni)
    s.transcript.append(f"-- TLS on: {tsock.version()} {tsock.cipher()[0]}")
    s.helo, s.esmtp, s.advertised = None, False, []   # RFC 3207 section 4.2


def starttls_broken(s, verb):
    s.send(None, "220 2.0.0 ready to start TLS")
    s.write(b"this is not a TLS ServerHello\r\n" * 4)
    s.transcript.append("-- garbage sent instead of a TLS ServerHello")
    s.drain(10)
    s.end("TLS broken (scripted)")


STARTTLS_MODES = {"ok": starttls_ok, "broken": starttls_broken}


def b64text(text):
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def cmd_auth(s, verb, arg, override):
    if not s.has_ext("AUTH"):
        s.violation("AUTH not advertised")
    if s.auth and s.auth["reply"][:1] == "2":
        s.send(override, "503 5.5.1 already authenticated")
        return
    words = arg.split()
    mech = words[0].upper() if words else ""
    user = password = None
    if mech == "PLAIN":
        resp = words[1] if len(words) > 1 else None
        if resp is None:
            s.send(None, "334 ")
            resp = s.read_auth_line()
        fields = None if resp in (None, "*") else b64text(resp)
        if fields is not None and fields.count(b"\0") == 2:
            _, user, password = fields.split(b"\0")
    elif mech == "LOGIN":
        u = words[1] if len(words) > 1 else None
        if u is None:
            s.send(None, "334 VXNlcm5hbWU6")
            u = s.read_auth_line()
        if u not in (None, "*"):
            s.send(None, "334 UGFzc3dvcmQ6")
            p = s.read_auth_line()
            if p not in (None, "*"):
                user, password = b64text(u), b64text(p)
    else:
        s.send(override, "504 5.5.4 mechanism not supported")
        return
    if s.ended:
        return
    if user is None or password is None:
        s.send(None, "501 5.5.2 AUTH cancelled or malformed")
        return
    user = user.decode("utf-8", "replace")
    password = password.decode("utf-8", "replace")
    users = s.cfg.get("auth_users")
    default = ("235 2.7.0 authenticated" if users is None or
               users.get(user) == password
               else "535 5.7.8 authentication credentials invalid")
    text = s.send(override or scripted(s, "AUTH"), default)
    s.auth = {"mechanism": mech, "user": user, "password": password,
              "reply": text}


COMMANDS = {
    "EHLO": cmd_ehlo, "HELO": cmd_helo, "MAIL": cmd_mail, "RCPT": cmd_rcpt,
    "DATA": cmd_data, "RSET": cmd_rset, "NOOP": cmd_noop, "VRFY": cmd_vrfy,
    "QUIT": cmd_quit, "STARTTLS": cmd_starttls, "AUTH": cmd_auth,
}


# ------------------------------------------------------------------ main

def main():
    global VERBOSE
    ap = argparse.ArgumentParser(
        description="a scripted SMTP fault server for tests (see the "
        "source's docstring for the script format)")
    ap.add_argument("--listen", action="append", required=True,
                    metavar="[NAME=]HOST:PORT")
    ap.add_argument("--script", metavar="FILE.json")
    ap.add_argument("--record", required=True, metavar="DIR")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    VERBOSE = args.verbose
    try:
        server = Server(args)
        if args.tls_cert:
            server.tls_context({})
    except (OSError, ScriptError, ssl.SSLError) as e:
        print(f"smtpfault: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.record, exist_ok=True)
    for lis in server.listeners:
        try:
            lis.open()
        except OSError as e:
            print(f"smtpfault: cannot listen on {lis.host}:{lis.port} "
                  f"({lis.name}): {e.strerror or e}", file=sys.stderr)
            return 2
    for lis in server.listeners:
        threading.Thread(target=server.serve, args=(lis,),
                         daemon=True).start()
        print(f"ready {lis.name} {lis.host} {lis.port}")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main())
