# Opens sockets of every family, through Python and through the raw socket system call: TCP to the
# test's listener, IPv6, a Unix socket, netlink (routing, audit), a raw packet socket, vsock, the
# kernel crypto API, and a socketpair. A TCP socket that opens goes on to connect.

import errno
import os

HOLE = "REFIGURE-" + "HOLE"  # printed when an attack gets through: the test fails on it
stopped = []


def _how(error):
    code = getattr(error, "errno", None)
    if code:
        return errno.errorcode.get(code, str(code))
    return type(error).__name__ + (" (tripwire)" if "blocked)" in str(error) else "")


def attempt(what, fn, *args, catch=OSError, **kwargs):
    """One attack. A refusal (the kernel's errno, or the tripwire's PermissionError) is recorded."""
    try:
        fn(*args, **kwargs)
    except catch as error:
        stopped.append("%s: %s" % (what, _how(error)))
        return False
    print(HOLE, what, flush=True)
    return True


def step(what, fn, *args, **kwargs):
    """A preparation that is no attack by itself (an O_PATH open, which Landlock allows): its result, or None."""
    try:
        return fn(*args, **kwargs)
    except OSError as error:
        stopped.append("%s: %s" % (what, _how(error)))
        return None


def finish():
    raise PermissionError("every attempt was stopped: " + "; ".join(stopped))


import ctypes
import platform

_libc = []


def syscall(number, *args):
    """A raw system call, past every Python-level hook."""
    if not _libc:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        _libc.append(libc)
    result = _libc[0].syscall(ctypes.c_long(number), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def nr(x86_64, aarch64):
    return x86_64 if platform.machine() == "x86_64" else aarch64


import socket
import struct

attempt("Python socket(AF_UNIX)", socket.socket, socket.AF_UNIX, socket.SOCK_STREAM)
attempt("Python socketpair()", socket.socketpair)
SOCKET = nr(41, 198)
families = [("AF_INET", 2, 1, 0), ("AF_INET6", 10, 1, 0), ("AF_UNIX", 1, 1, 0), ("AF_NETLINK route", 16, 3, 0),
            ("AF_NETLINK audit", 16, 3, 9), ("AF_PACKET", 17, 3, 0x0300), ("AF_VSOCK", 40, 1, 0), ("AF_ALG", 38, 5, 0)]
fds = {}
for name, family, kind, protocol in families:
    attempt("socket(%s)" % name, lambda name=name, family=family, kind=kind, protocol=protocol: fds.setdefault(name, syscall(SOCKET, family, kind, protocol)))
if "AF_INET" in fds:
    address = struct.pack("=HH4s8x", 2, socket.htons({{PORT}}), bytes([127, 0, 0, 1]))
    attempt("connect to the listener", syscall, nr(42, 203), fds["AF_INET"], address, len(address))
pair = (ctypes.c_int * 2)()
attempt("socketpair(AF_UNIX)", syscall, nr(53, 199), 1, 1, 0, pair)
finish()
