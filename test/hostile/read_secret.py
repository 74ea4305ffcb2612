# Reads what a render must not see, and prints whatever it gets: the secret file, the repository
# (package.json, git config, a listing), the home folder and the canary folder listings.

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


def show(path):
    with open(path) as f:
        print(path, f.read(400))


attempt("read the secret", show, "{{SECRET_FILE}}")
attempt("read package.json", show, "{{REPO}}/package.json")
attempt("read .git/config", show, "{{REPO}}/.git/config")
attempt("list the repository", lambda: print(os.listdir("{{REPO}}")))
attempt("list the home folder", lambda: print(os.listdir(os.path.dirname("{{HOME_TARGET}}"))))
attempt("list the canary folder", lambda: print(os.listdir("{{OUTSIDE}}")))
finish()
