# Creates databases outside scratch with every dbm module this Python has: the C ones (gnu, ndbm)
# open their files without an audit event.

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


import importlib

for name in ("dbm.gnu", "dbm.ndbm", "dbm.dumb"):
    try:
        module = importlib.import_module(name)
    except ImportError:
        print(name, "is not available")
        continue

    def create(module=module, name=name):
        db = module.open("{{OUTSIDE}}/" + name.replace(".", "-"), "c")
        db[b"escaped"] = b"yes"
        db.close()

    attempt("create a %s database in the canary folder" % name, create, catch=Exception)
finish()
