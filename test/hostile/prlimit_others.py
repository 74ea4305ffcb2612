# Changes other processes' resource limits with prlimit64, which checks only that the user ids match:
# the worker's CPU limit set to one second (it has used more: the kernel would kill it with SIGXCPU),
# and, for the Node process, a write of its own current value (which changes nothing but needs the
# same right).

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


class Rlimit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]


PRLIMIT, RLIMIT_CPU, RLIMIT_NOFILE = nr(302, 261), 0, 7
worker, node = os.getppid(), {{NODE_PID}}
attempt("prlimit64(worker, RLIMIT_CPU = 1 s)", syscall, PRLIMIT, worker, RLIMIT_CPU, ctypes.byref(Rlimit(1, 1)), None)
current = Rlimit()
attempt("prlimit64(Node) read", syscall, PRLIMIT, node, RLIMIT_NOFILE, None, ctypes.byref(current))
attempt("prlimit64(Node) write", syscall, PRLIMIT, node, RLIMIT_NOFILE, ctypes.byref(current), None)
finish()
