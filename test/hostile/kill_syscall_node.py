# Kills the Node process that runs Refigure with raw system calls. A signal-0 probe that gets through
# is already the hole (and then it stops short of killing the test's own process); when the probe is
# refused it sends the real SIGKILL, by every call that takes a process id.

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


import signal

node = {{NODE_PID}}
KILL = int(signal.SIGKILL)
info = ctypes.create_string_buffer(128)
info[0:4] = KILL.to_bytes(4, "little")
if not attempt("kill(Node, 0)", syscall, nr(62, 129), node, 0):
    attempt("kill(Node)", syscall, nr(62, 129), node, KILL)
    attempt("tkill(Node)", syscall, nr(200, 130), node, KILL)
    attempt("tgkill(Node)", syscall, nr(234, 131), node, node, KILL)
    attempt("rt_sigqueueinfo(Node)", syscall, nr(129, 138), node, KILL, info)
finish()
