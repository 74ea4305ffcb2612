# Reaches files through /proc's magic links: reopens an O_PATH descriptor of the secret file (O_PATH
# opens are not checked by Landlock) for reading, opens the worker's own descriptors (its protocol
# pipes) for writing, and reads the secret through the worker's root link.

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


worker = os.getppid()
secret = step("O_PATH open of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)


def reopen():
    fd = os.open("/proc/self/fd/%d" % secret, os.O_RDONLY)
    print(os.read(fd, 4096))


if secret is not None:
    attempt("reopen it through /proc/self/fd", reopen)
for fd in range(0, 8):
    attempt("open /proc/<worker>/fd/%d for writing" % fd, lambda fd=fd: os.write(os.open("/proc/%d/fd/%d" % (worker, fd), os.O_WRONLY), b'{"id": 1, "ok": true}\n'))
attempt("read through /proc/<worker>/root", lambda: print(open("/proc/%d/root{{SECRET_FILE}}" % worker).read()))
finish()
