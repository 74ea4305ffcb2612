# Types into the user's terminal: TIOCSTI and TIOCLINUX on every standard descriptor and on the
# controlling terminal, and a new pseudo-terminal. (The render has no terminal; the refusal must come
# from the filter, not from the missing terminal.)

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


import fcntl
import termios

TIOCSTI = getattr(termios, "TIOCSTI", 0x5412)
for fd in (0, 1, 2):
    attempt("TIOCSTI on descriptor %d" % fd, fcntl.ioctl, fd, TIOCSTI, b"x")
    attempt("TIOCLINUX on descriptor %d" % fd, fcntl.ioctl, fd, 0x541C, b"\x02")
attempt("open /dev/tty", lambda: fcntl.ioctl(os.open("/dev/tty", os.O_RDWR), TIOCSTI, b"x"))
attempt("openpty", os.openpty)
finish()
