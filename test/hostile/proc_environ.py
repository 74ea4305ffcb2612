# Reads other processes' environment, command line and memory map through /proc: the Node process
# (whose environment holds REFIGURE_API_KEY), the worker, and pid 1. Whatever it reads it prints.

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


def read(path):
    with open(path, "rb") as f:
        data = f.read(65536)
    print(path, data.replace(b"\0", b"\n").decode("utf-8", "replace"))


for name, pid in (("<Node>", {{NODE_PID}}), ("<worker>", os.getppid()), ("1", 1)):
    for entry in ("environ", "cmdline", "maps", "status"):
        attempt("/proc/%s/%s" % (name, entry), read, "/proc/%d/%s" % (pid, entry))
attempt("list /proc", lambda: print(os.listdir("/proc")))
finish()
