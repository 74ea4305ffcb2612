# Writes across the render root: the staged original and the output names in its own request folder,
# the worker's HOME and TMPDIR, a new request folder beside its own, and the root itself. It also
# lists the root to find other requests' folders and tries to write into each.

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


targets = ["../original.png", "../out.png", "../diff.png", "../planted.txt", "../../home/.bashrc",
           "../../tmp/planted.txt", "../../planted.txt"]
for path in targets:
    attempt("write " + path, lambda path=path: open(path, "a").write("planted"))
attempt("mkdir ../../r-forged", os.mkdir, "../../r-forged")
attempt("mkdir ../sibling", os.mkdir, "../sibling")
attempt("remove ../original.png", os.remove, "../original.png")


def into_others():
    for name in os.listdir("../.."):
        open(os.path.join("../..", name, "planted.txt"), "w").write("planted")


attempt("list the render root and write into every folder", into_others)
finish()
