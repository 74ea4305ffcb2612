# Puts the worker's fixed output names (../out.png, ../diff.png) in place before the worker writes
# them: symlinks and hard links to a secret file, a hard link and a rename of a PNG from scratch.

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


with open("fake.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
for name in ("../out.png", "../diff.png"):
    attempt("symlink " + name, os.symlink, "{{SECRET_FILE}}", name)
    attempt("hard link of the secret as " + name, os.link, "{{SECRET_FILE}}", name)
    attempt("hard link of a scratch file as " + name, os.link, "fake.png", name)
attempt("rename a scratch file to ../out.png", os.rename, "fake.png", "../out.png")
finish()
