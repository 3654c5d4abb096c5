#!/usr/bin/python3
"""smtpsink - a real SMTP receiving server for postern's tests (aiosmtpd).

  smtpsink.py --listen NAME=HOST:PORT [--listen ...] [--record DIR]
              [--tls-cert CERT --tls-key KEY [--require-tls]] [--smtputf8]
              [--data-size-limit N] [--rcpt-reply 'PATTERN=CODE TEXT' ...]
              [--hostname NAME] [--no-pipelining] [-v]

Where smtpfault.py misbehaves on purpose, this one is a well-behaved
receiving MX built on aiosmtpd (Debian's python3-aiosmtpd 1.4): what a
remote-delivery test delivers to when it wants the mail to arrive.

Each --listen opens one listener (PORT 0: the kernel picks one; IPv6 as
NAME=[::1]:PORT; NAME is letters, digits, "_", "-", "."). Once every
listener is open it prints, flushed, one line per listener on stdout:

  ready NAME HOST PORT

and serves until SIGTERM/SIGINT (exit 0). A listener that cannot be opened
(a busy port) is an error: a message on stderr, exit 2, no ready line.
One asyncio loop serves every listener and connection, so many concurrent
connections are fine. Nothing else is printed on stdout; one line per
accepted message, failed TLS handshake (one line) or other error (a
traceback) goes to stderr; -v adds aiosmtpd's log.

THE SESSION. aiosmtpd's, with decode_data=False so 8-bit data is kept as
bytes: EHLO advertises SIZE (unless --data-size-limit 0), 8BITMIME,
SMTPUTF8 (with --smtputf8), STARTTLS (with a certificate, until TLS is on),
PIPELINING (unless --no-pipelining; aiosmtpd reads commands one line at a
time, so pipelined commands are simply queued), and after TLS "AUTH LOGIN
PLAIN" (any credentials fail). The default size limit is 64 MiB
(aiosmtpd's own is 32 MiB): MAIL with SIZE= over the limit, or data over
it, gets 552. A DATA line of 1000 octets or more before its CRLF makes
the end of data get "500 Line too long" (RFC 5321 allows 998; aiosmtpd
takes 999). MAIL and RCPT parameters aiosmtpd does
not know (DSN's RET, ENVID, NOTIFY, ORCPT: DSN is not advertised) get 555.
--require-tls: every command but EHLO, NOOP, STARTTLS and QUIT gets
"530 Must issue a STARTTLS command first" before TLS. --rcpt-reply
'PATTERN=CODE TEXT' (repeatable; first match wins; fnmatch, case-folded,
on the address without <>) answers a matching RCPT with that reply instead
of 250, and the address is not added to the transaction, e.g.

  --rcpt-reply 'full*@*=452 4.2.2 mailbox full'
  --rcpt-reply '*@gone.test=550 5.1.1 no such user'

The end of data is answered "250 2.0.0 Ok: queued as NNNNNN".

RECORDS (--record DIR). For each accepted message, numbered from 000001
across all listeners:
  DIR/NNNNNN.eml   the content exactly as received after dot-unstuffing
                   (aiosmtpd's envelope.original_content): CRLF line ends
                   as on the wire, 8-bit bytes kept, no trailing "."
  DIR/NNNNNN.json  {"id", "listener", "connection" (its number on that
                   listener, from 1), "peer": [host, port], "helo",
                   "esmtp", "mail_from" ("" for the null sender <>),
                   "mail_options" (as sent, upper-cased by aiosmtpd),
                   "smtputf8", "rcpt_tos" (accepted recipients),
                   "rcpt_options" (a list per accepted recipient),
                   "tls": null or {"version", "cipher"}, "size" (octets
                   of the .eml)}
Both are written to a temporary name and renamed, the .json last: a
reader that sees NNNNNN.json can trust both files. Also, per listener,
DIR/connections-NAME holds the number of TCP connections it accepted so
far (0 at start; rewritten atomically on each new connection).
Without --record nothing is written.
"""
import argparse
import asyncio
import fnmatch
import json
import logging
import os
import re
import signal
import socket
import ssl
import sys
import traceback

from aiosmtpd.smtp import SMTP, TLSSetupException

DEFAULT_SIZE = 64 * 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
REPLY_RE = re.compile(r"^(.+?)=([2-5][0-9][0-9](?:[ -].*)?)$")


def err(msg):
    sys.stderr.write(f"smtpsink: {msg}\n")
    sys.stderr.flush()


def write_atomic(path, data):
    tmp = f"{os.path.dirname(path)}/.tmp.{os.path.basename(path)}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def parse_listen(spec):
    name, eq, addr = spec.partition("=")
    if not eq or not NAME_RE.match(name):
        raise ValueError(f"--listen {spec!r}: want NAME=HOST:PORT")
    m = re.match(r"^\[([^\]]+)\]:(\d+)$", addr) or \
        re.match(r"^([^:\[\]]+):(\d+)$", addr)
    if not m:
        raise ValueError(f"--listen {spec!r}: want NAME=HOST:PORT")
    return name, m.group(1), int(m.group(2))


def parse_reply(spec):
    m = REPLY_RE.match(spec)
    if not m:
        raise ValueError(f"--rcpt-reply {spec!r}: want 'PATTERN=CODE TEXT'")
    return m.group(1).lower(), m.group(2)


class Sink:
    def __init__(self, args):
        self.args = args
        self.record = args.record
        self.seq = 0
        self.connections = {}
        self.replies = [parse_reply(r) for r in args.rcpt_reply]

    # connections-NAME
    def connected(self, name):
        self.connections[name] = self.connections.get(name, 0) + 1
        if self.record:
            write_atomic(f"{self.record}/connections-{name}",
                         b"%d\n" % self.connections[name])
        return self.connections[name]


class Handler:
    """aiosmtpd hooks for one connection"""

    def __init__(self, sink, name, conn):
        self.sink, self.name, self.conn = sink, name, conn
        self.rcpt_opts = []

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if not self.sink.args.no_pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        self.rcpt_opts = []
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope):
        self.rcpt_opts = []
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        low = address.lower()
        for pattern, reply in self.sink.replies:
            if fnmatch.fnmatchcase(low, pattern):
                return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        self.rcpt_opts.append(list(rcpt_options))
        return "250 OK"

    async def handle_exception(self, error):
        """a failed TLS handshake (the client did not trust the
        certificate, say) is one line on stderr; anything else, a
        traceback"""
        where = f"{self.name}#{self.conn}"
        if isinstance(error, TLSSetupException):
            err(f"{where}: TLS handshake failed: {error.__cause__}")
            return "454 4.7.0 TLS handshake failed"
        err(f"{where}: session exception:\n" + "".join(
            traceback.format_exception(error)).rstrip())
        return f"500 Error: ({error.__class__.__name__}) {error}"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        sink.seq += 1
        ident = "%06d" % sink.seq
        content = envelope.original_content
        tls = None
        if session.ssl:
            obj = session.ssl.get("ssl_object")
            if obj is not None:
                tls = {"version": obj.version(), "cipher": obj.cipher()[0]}
        mail_from = envelope.mail_from
        rec = {
            "id": ident,
            "listener": self.name,
            "connection": self.conn,
            "peer": list(session.peer[:2]) if session.peer else None,
            "helo": session.host_name,
            "esmtp": session.extended_smtp,
            "mail_from": "" if mail_from == "<>" else mail_from,
            "mail_options": envelope.mail_options,
            "smtputf8": envelope.smtp_utf8,
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": self.rcpt_opts,
            "tls": tls,
            "size": len(content),
        }
        self.rcpt_opts = []
        if sink.record:
            def write():
                write_atomic(f"{sink.record}/{ident}.eml", content)
                write_atomic(f"{sink.record}/{ident}.json",
                             json.dumps(rec, indent=1).encode())
            try:
                await asyncio.get_running_loop().run_in_executor(None, write)
            except OSError as e:
                err(f"cannot record {ident}: {e}")
                return "451 4.3.0 cannot record the message"
        err(f"{ident} {self.name}#{self.conn} from <{rec['mail_from']}> "
            f"to {len(envelope.rcpt_tos)} rcpt(s), {len(content)} octets"
            f"{', ' + tls['version'] if tls else ''}")
        return f"250 2.0.0 Ok: queued as {ident}"


async def serve(args):
    sink = Sink(args)
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    limit = args.data_size_limit or None
    loop = asyncio.get_running_loop()
    servers = []
    for name, host, port in args.listeners:
        if args.record:
            write_atomic(f"{args.record}/connections-{name}", b"0\n")

        def factory(name=name):
            conn = sink.connected(name)
            return SMTP(Handler(sink, name, conn), loop=loop,
                        data_size_limit=limit,
                        enable_SMTPUTF8=args.smtputf8, decode_data=False,
                        hostname=args.hostname, ident="ESMTP smtpsink",
                        tls_context=tls_context,
                        require_starttls=args.require_tls)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            srv = await loop.create_server(factory, host, port,
                                           family=family, backlog=512,
                                           reuse_address=True)
        except OSError as e:
            err(f"cannot listen on {host}:{port} ({name}): "
                f"{e.strerror or e}")
            return 2
        servers.append((name, host, srv))
    for name, host, srv in servers:
        port = srv.sockets[0].getsockname()[1]
        sys.stdout.write(f"ready {name} {host} {port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for _, _, srv in servers:
        srv.close()
    return 0


def main():
    ap = argparse.ArgumentParser(
        description="an SMTP receiving server for tests (aiosmtpd); see "
        "the source's docstring")
    ap.add_argument("--listen", action="append", required=True,
                    metavar="NAME=HOST:PORT")
    ap.add_argument("--record", metavar="DIR")
    ap.add_argument("--tls-cert", metavar="FILE")
    ap.add_argument("--tls-key", metavar="FILE")
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--smtputf8", action="store_true")
    ap.add_argument("--data-size-limit", type=int, default=DEFAULT_SIZE,
                    metavar="N", help="0: no limit, SIZE not advertised")
    ap.add_argument("--rcpt-reply", action="append", default=[],
                    metavar="'PATTERN=CODE TEXT'")
    ap.add_argument("--hostname", default="sink.test")
    ap.add_argument("--no-pipelining", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, format="%(name)s: %(message)s",
                        level=logging.INFO if args.verbose
                        else logging.ERROR)
    try:
        args.listeners = [parse_listen(s) for s in args.listen]
        for r in args.rcpt_reply:
            parse_reply(r)
    except ValueError as e:
        err(str(e))
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        err("--tls-cert and --tls-key go together")
        return 2
    if args.require_tls and not args.tls_cert:
        err("--require-tls needs --tls-cert and --tls-key")
        return 2
    if args.data_size_limit < 0:
        err("--data-size-limit: not a size")
        return 2
    if args.record:
        os.makedirs(args.record, exist_ok=True)
    try:
        return asyncio.run(serve(args))
    except (OSError, ssl.SSLError) as e:
        err(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
