# Plants the worker's fixed output names in the request folder (scratch's parent) as symlinks to a
# secret file, with os.symlink(target, "out.png", dir_fd=…): the path is relative, so a check of the
# path alone sees it inside scratch. Both an O_PATH and an ordinary descriptor of the parent are tried.

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


dirs = [step("O_PATH descriptor of scratch's parent", os.open, "..", os.O_PATH | os.O_DIRECTORY)]
attempt("read descriptor of scratch's parent", lambda: dirs.append(os.open("..", os.O_RDONLY | os.O_DIRECTORY)))
dirs = [fd for fd in dirs if fd is not None]
for index, fd in enumerate(dirs):
    for name in ("out.png", "diff.png"):
        attempt("symlink %s (descriptor %d)" % (name, index), os.symlink, "{{SECRET_FILE}}", name, dir_fd=fd)
finish()
