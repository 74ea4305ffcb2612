# Creates System V IPC objects (shared memory, message queues, semaphores) and a POSIX message queue:
# kernel objects outside scratch that outlive the render (shared memory is not counted by the address
# space limit). Each one made is removed again at once.

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


IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0


def make(what, get, args, remove):
    def run():
        ident = syscall(get, *args)
        print(HOLE, what, "created (id %d), removing it" % ident, flush=True)
        syscall(remove, ident, IPC_RMID, None) if what != "semaphore" else syscall(remove, ident, 0, IPC_RMID)
    attempt(what, run)


make("shared memory", nr(29, 194), (IPC_PRIVATE, 64 << 20, IPC_CREAT | 0o600), nr(31, 195))
make("message queue", nr(68, 186), (IPC_PRIVATE, IPC_CREAT | 0o600), nr(71, 187))
make("semaphore", nr(64, 190), (IPC_PRIVATE, 1, IPC_CREAT | 0o600), nr(66, 191))


def mq():
    syscall(nr(240, 180), b"refigure-hostile", os.O_CREAT | os.O_RDWR, 0o600, None)
    print(HOLE, "POSIX message queue created", flush=True)
    syscall(nr(241, 181), b"refigure-hostile")


attempt("mq_open", mq)
finish()
