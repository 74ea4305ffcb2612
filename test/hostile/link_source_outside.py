# Hard-links files from outside into scratch, where they could then be read (and, for a file the
# render may not write, written): the secret file, the repository's package.json, and the secret again
# through /proc/self/fd of an O_PATH descriptor (linkat with AT_SYMLINK_FOLLOW). The destination is
# inside scratch, so a check of the destination alone lets it through. Whatever it links it prints.

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


def link_and_read(source, name, **kwargs):
    os.link(source, name, **kwargs)
    with open(name) as f:
        print(name, f.read(200))


attempt("link the secret into scratch", link_and_read, "{{SECRET_FILE}}", "stolen.txt")
attempt("link package.json into scratch", link_and_read, "{{REPO}}/package.json", "package.json")
secret = step("O_PATH descriptor of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)
if secret is not None:
    attempt("link it through /proc/self/fd", link_and_read, "/proc/self/fd/%d" % secret, "stolen2.txt", follow_symlinks=True)
finish()
