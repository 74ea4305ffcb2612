# Replaces the render with another program through libc and raw system calls: execve, and execveat
# of a copy of the program made in scratch (where Landlock allows executing). The program touches a
# file in the canary folder.

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


argv = (ctypes.c_char_p * 3)(b"/usr/bin/touch", b"{{OUTSIDE}}/execve.txt", None)
envp = (ctypes.c_char_p * 1)(None)


def libc_execve():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.execve(b"/usr/bin/touch", argv, envp)
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code))


attempt("libc execve", libc_execve)
attempt("execve system call", syscall, nr(59, 221), b"/usr/bin/touch", argv, envp)


def copy_exec():
    with open("/usr/bin/touch", "rb") as f:
        program = f.read()
    fd = os.open("touch-copy", os.O_CREAT | os.O_WRONLY, 0o755)
    os.write(fd, program)
    os.close(fd)
    fd = os.open("touch-copy", os.O_RDONLY)
    syscall(nr(322, 281), fd, b"", argv, envp, 0x1000)  # AT_EMPTY_PATH


attempt("execveat of a copy in scratch", copy_exec)
finish()
