# Makes device nodes in scratch (a character device for kernel memory, a block device for a disk)
# and other special files with mknod.

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

attempt("mknod /dev/mem", os.mknod, "mem", stat.S_IFCHR | 0o600, os.makedev(1, 1))
attempt("mknod a disk", os.mknod, "sda", stat.S_IFBLK | 0o600, os.makedev(8, 0))
attempt("mknod /dev/null", os.mknod, "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
attempt("mknod a socket", os.mknod, "socket", stat.S_IFSOCK | 0o600)
attempt("mknod a regular file", os.mknod, "plain", stat.S_IFREG | 0o600)
finish()
