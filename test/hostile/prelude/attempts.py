# Shared by the hostile programs (inlined where one says "# {{PRELUDE attempts}}"): each attack is
# recorded with how it was stopped, and a program that gets through prints the marker the test fails on.
import errno

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
