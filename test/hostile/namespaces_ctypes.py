# Leaves the sandbox's view of the system with raw system calls: unshare into new user, mount and
# network namespaces, setns into pid 1's, and mount, chroot and pivot_root.

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


CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x10000000, 0x40000000, 0x20000000
attempt("unshare(user + mount)", syscall, nr(272, 97), CLONE_NEWUSER | CLONE_NEWNS)
attempt("unshare(network)", syscall, nr(272, 97), CLONE_NEWNET)
attempt("unshare(pid)", syscall, nr(272, 97), CLONE_NEWPID)
fds = []
attempt("open pid 1's mount namespace", lambda: fds.append(os.open("/proc/1/ns/mnt", os.O_RDONLY)))
attempt("setns", syscall, nr(308, 268), fds[0] if fds else 0, 0)
attempt("mount a tmpfs", syscall, nr(165, 40), b"none", b".", b"tmpfs", 0, None)
attempt("chroot", syscall, nr(161, 51), b".")
os.mkdir("old")
attempt("pivot_root", syscall, nr(155, 41), b".", b"old")
finish()
