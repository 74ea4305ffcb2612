# Poisons matplotlib's persistent config folder (MPLCONFIGDIR, shared by every later worker): a
# matplotlibrc, a style, and the font cache, which every later render would load.

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


config = os.environ.get("MPLCONFIGDIR") or "/nonexistent-mplconfigdir"
print("MPLCONFIGDIR is", config)
attempt("write matplotlibrc", lambda: open(os.path.join(config, "matplotlibrc"), "w").write("axes.facecolor: red\n"))
attempt("mkdir stylelib", os.mkdir, os.path.join(config, "stylelib"))
attempt("write a font cache", lambda: open(os.path.join(config, "fontlist-v999.json"), "w").write("{}"))
try:
    existing = os.listdir(config)
except OSError:
    existing = []
for name in existing:
    attempt("append to " + name, lambda name=name: open(os.path.join(config, name), "a").write(""))
    attempt("rename " + name, os.rename, os.path.join(config, name), os.path.join(config, name + ".moved"))
finish()
