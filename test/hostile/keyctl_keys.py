# Reaches the kernel keyrings: add a key to the session keyring, request one, and read the user
# keyring's contents, where other processes of the same user keep credentials.

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


KEY_SPEC_SESSION, KEY_SPEC_USER = -3, -4
attempt("add_key", syscall, nr(248, 217), b"user", b"refigure", b"planted", 7, KEY_SPEC_SESSION)
attempt("request_key", syscall, nr(249, 218), b"user", b"refigure", None, KEY_SPEC_SESSION)
buffer = ctypes.create_string_buffer(4096)


def read_user_keyring():
    size = syscall(nr(250, 219), 11, KEY_SPEC_USER, buffer, 4096)  # KEYCTL_READ
    print("user keyring:", buffer.raw[:size])


attempt("keyctl(KEYCTL_READ, user keyring)", read_user_keyring)
finish()
