# Reads the worker's memory: ptrace attach and seize, PTRACE_TRACEME, and process_vm_readv at an
# address the child knows holds the same object in the worker (a forked child shares its layout).
# A read that gets through is the hole; the write-back then repeats the bytes just read.

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


import sys

worker, node = os.getppid(), {{NODE_PID}}
PTRACE = nr(101, 117)
attempt("ptrace(PTRACE_ATTACH, worker)", syscall, PTRACE, 16, worker, None, None)
attempt("ptrace(PTRACE_SEIZE, Node)", syscall, PTRACE, 0x4206, node, None, None)
attempt("ptrace(PTRACE_TRACEME)", syscall, PTRACE, 0, 0, None, None)


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


buffer = ctypes.create_string_buffer(64)
local = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 64)
remote = Iovec(id(sys.modules), 64)  # the same dictionary sits at the same address in the worker
if attempt("process_vm_readv(worker)", syscall, nr(310, 270), worker, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0):
    attempt("process_vm_writev(worker)", syscall, nr(311, 271), worker, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
else:
    empty = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 0)
    attempt("process_vm_writev(worker)", syscall, nr(311, 271), worker, ctypes.byref(empty), 1, ctypes.byref(empty), 1, 0)
attempt("process_vm_readv(Node)", syscall, nr(310, 270), node, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
finish()
