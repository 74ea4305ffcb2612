# Puts FIFOs where files are read: the worker's fixed output names and the staged original in the
# request folder (a reader would block), and a FIFO in scratch, by path and through a descriptor of
# the parent.

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


import stat

for name in ("../out.png", "../diff.png", "../original.png", "fifo.png"):
    attempt("mkfifo " + name, os.mkfifo, name)
attempt("replace the staged original with a FIFO", lambda: (os.remove("../original.png"), os.mkfifo("../original.png")))
parent = step("O_PATH descriptor of the parent", os.open, "..", os.O_PATH | os.O_DIRECTORY)
if parent is not None:
    attempt("mkfifo out.png through the parent's descriptor", os.mkfifo, "out.png", dir_fd=parent)
    attempt("mknod a FIFO through the parent's descriptor", os.mknod, "diff.png", stat.S_IFIFO | 0o644, dir_fd=parent)
finish()
