# Makes new processes with the raw clone system call (no audit event): a plain fork-like clone, one
# that makes a sibling of itself (CLONE_PARENT, a child of the worker), a thread with a new user
# namespace, and clone3.

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

SIGCHLD = int(signal.SIGCHLD)
CLONE = nr(56, 220)


def clone(flags):
    pid = syscall(CLONE, flags, 0, None, None, 0)
    if pid == 0:
        os._exit(0)  # the new process leaves at once
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


attempt("clone(SIGCHLD)", clone, SIGCHLD)
attempt("clone(CLONE_PARENT)", clone, 0x00008000 | SIGCHLD)
attempt("clone(thread + CLONE_NEWUSER)", syscall, CLONE, 0x00010000 | 0x00000800 | 0x00000100 | 0x10000000, 0, None, None, 0)


class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls")]


args = CloneArgs(exit_signal=SIGCHLD)


def clone3():
    pid = syscall(435, ctypes.byref(args), ctypes.sizeof(args))
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


attempt("clone3", clone3)
finish()
