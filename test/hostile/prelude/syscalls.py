# Shared by the hostile programs (inlined where one says "# {{PRELUDE syscalls}}"): raw system calls
# through ctypes, past every Python-level hook, with the numbers of both architectures.
import ctypes
import os
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
