# Signals the Node process that runs Refigure (the VS Code extension host, or the CLI) with
# pidfd_send_signal. It probes with signal 0 first: a probe that gets through is already the hole,
# and then it stops short of killing the test's own process.

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
pidfds = []
attempt("pidfd_open(Node)", lambda: pidfds.append(syscall(434, node, 0)))
pidfds.append(step("O_PATH /proc/<Node>", os.open, "/proc/%d" % node, os.O_PATH | os.O_DIRECTORY))
pidfds = [fd for fd in pidfds if fd is not None]
fd = pidfds[0] if pidfds else 0
if not attempt("pidfd_send_signal(Node, 0)", syscall, 424, fd, 0, None, 0):
    attempt("pidfd_send_signal(Node, SIGKILL)", syscall, 424, fd, int(signal.SIGKILL), None, 0)
finish()
