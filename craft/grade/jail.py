"""``python -m craft.grade.jail FD CMD...``: start CMD in a network namespace of its own.

Run by ``craft.grade.sandbox`` as the submission's first process: it leaves the host's
network (``unshare(CLONE_NEWNET)``), brings the new namespace's loopback up so the
submission can bind 127.0.0.1, writes one status line to file descriptor FD (``1`` when
isolated, ``0 reason`` when the system refused), closes it and becomes CMD with ``exec``,
so CMD keeps this process's id and group. Without the privilege for a namespace CMD still
runs, on the host's network, and the report says so.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def isolate() -> str:
    """Enter a fresh network namespace with loopback up; '' on success, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare: {os.strerror(ctypes.get_errno())}"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
    return ""


def main(argv: list[str]) -> None:
    fd, command = int(argv[0]), argv[1:]
    try:
        why = isolate()
    except OSError as exc:
        why = f"loopback: {exc.strerror or exc}"
    os.write(fd, (b"1\n" if not why else f"0 {why}\n".encode()))
    os.close(fd)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"cannot start {command[0]}: {exc.strerror or exc}", file=sys.stderr)
        os._exit(127)


if __name__ == "__main__":
    main(sys.argv[1:])
