# Changes modes without write access: os.fchmod on a descriptor opened read-only (setuid bit), chmod
# of the canary, and fchmodat2 with AT_EMPTY_PATH on an O_PATH descriptor of the secret file (O_PATH
# opens are not checked by Landlock). A scratch file stands in for a system binary.

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


import stat

with open("victim", "w") as f:
    f.write("#!/bin/sh\n")
fd = os.open("victim", os.O_RDONLY)
attempt("fchmod(read-only descriptor, setuid)", os.fchmod, fd, 0o4755)
attempt("chmod(scratch file, setuid)", os.chmod, "victim", 0o4755)
attempt("chmod(secret, setuid)", os.chmod, "{{SECRET_FILE}}", 0o4777)
secret = step("O_PATH descriptor of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)
AT_EMPTY_PATH = 0x1000
attempt("fchmodat2(O_PATH descriptor, '', AT_EMPTY_PATH)", syscall, 452, fd if secret is None else secret, b"", 0o4777, AT_EMPTY_PATH)
attempt("fchmodat(secret)", syscall, nr(268, 53), -100, b"{{SECRET_FILE}}", 0o4777)
if os.stat("victim").st_mode & stat.S_ISUID:
    print(HOLE, "the scratch file became setuid")
finish()
