"""framing - what the Python job drivers (localjob.py, bouncejob.py)
share: the attribute netstrings and ipc frames of common/attr.h and
common/ipc.h, and a job's content as a sealed memfd passed with the
frame (SCM_RIGHTS), as the queue manager hands them to its workers.
"""
import fcntl
import os
import socket
import struct

F_ADD_SEALS, F_GET_SEALS = 1033, 1034
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 1, 2, 4, 8
ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
FD_FLAG = 0x80000000


def netstring(name, value):
    """one attribute, name=value, as a netstring"""
    if isinstance(value, str):
        value = value.encode()
    item = name.encode() + b"=" + value
    return str(len(item)).encode() + b":" + item + b","


def parse_netstrings(data):
    """the attributes of a record: [(name, value as text)]"""
    out = []
    while data:
        colon = data.index(b":")
        n = int(data[:colon])
        item = data[colon + 1:colon + 1 + n]
        if data[colon + 1 + n:colon + 2 + n] != b",":
            raise ValueError("bad netstring")
        data = data[colon + 2 + n:]
        name, value = item.split(b"=", 1)
        out.append((name.decode(), value.decode("utf-8", "replace")))
    return out


def make_memfd(content, seal=True):
    """content in a memfd, sealed unless seal is false"""
    fd = os.memfd_create("postern-test", os.MFD_ALLOW_SEALING)
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view):]
    if seal:
        fcntl.fcntl(fd, F_ADD_SEALS, ALL_SEALS)
    return fd


def send_job(sock, garbage, payload, content):
    """one job frame with its content memfd; garbage ("bytes", "nofd",
    "unsealed" or None) sends a broken one instead"""
    if garbage == "bytes":
        sock.sendall(b"\x00\x00\x00\x09garbage!!")
        return
    if garbage == "nofd":
        sock.sendall(struct.pack(">I", len(payload)) + payload)
        return
    fd = make_memfd(content, seal=garbage != "unsealed")
    try:
        frame = struct.pack(">I", len(payload) | FD_FLAG) + payload
        sent = socket.send_fds(sock, [frame], [fd])
        # sendall() of nothing still calls send(), which fails with EPIPE
        # when a quick worker has already answered and exited.
        if sent < len(frame):
            sock.sendall(frame[sent:])
    finally:
        os.close(fd)
