# Takes the worker's protocol channel: pidfd_open on the parent, then pidfd_getfd (raw system calls) on
# each of its descriptors, and writes forged replies into it: ok, perfect figures, and a diff_png and
# png that name a secret file.

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


forged = ('{"id": %d, "ok": true, "width": 10, "height": 10, "png": "{{SECRET_FILE}}", "diff_png": "{{SECRET_FILE}}", '
          '"metrics": {"fidelity": 1, "ssim": 1, "pixelMatch": 1, "edgeF1": 1, "colorDistance": 0}}\n')
worker = os.getppid()
pidfds = []

attempt("pidfd_open(worker)", lambda: pidfds.append(syscall(434, worker, 0)))
# A /proc/<pid> directory descriptor also works as a pidfd.
attempt("open /proc/<worker> as a pidfd", lambda: pidfds.append(os.open("/proc/%d" % worker, os.O_RDONLY | os.O_DIRECTORY)))


def take_channel():
    pidfd = pidfds[0] if pidfds else 0
    for target in range(0, 32):
        try:
            fd = syscall(438, pidfd, target, 0)
        except OSError as error:
            if error.errno == errno.EBADF and pidfds:
                continue
            raise
        for rid in range(1, 100):
            os.write(fd, (forged % rid).encode())
        print(HOLE, "wrote forged replies into the worker's descriptor", target, flush=True)


attempt("pidfd_getfd(worker's descriptors)", take_channel)
finish()
