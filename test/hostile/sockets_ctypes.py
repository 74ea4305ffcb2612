# Opens sockets of every family, through Python and through the raw socket system call: TCP to the
# test's listener, IPv6, a Unix socket, netlink (routing, audit), a raw packet socket, vsock, the
# kernel crypto API, and a socketpair. A TCP socket that opens goes on to connect.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


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
