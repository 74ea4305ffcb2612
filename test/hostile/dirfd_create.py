# Creates files outside scratch through os.open(name, O_CREAT, dir_fd=…): the name is relative, so a
# check of the path alone sees it inside scratch. Directory descriptors: the canary folder, the home
# folder (the file named as the test's home target), scratch's parent and the render root.

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


home, home_name = os.path.split("{{HOME_TARGET}}")
places = [("{{OUTSIDE}}", "dirfd.txt"), (home, home_name), ("..", "dirfd.txt"), ("../..", "dirfd.txt")]
for folder, name in places:
    fd = step("O_PATH descriptor of " + folder, os.open, folder, os.O_PATH | os.O_DIRECTORY)
    if fd is None:
        continue
    attempt("create %s in %s" % (name, folder), lambda: os.write(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd), b"planted"))
    attempt("mkdir in " + folder, os.mkdir, "dirfd-folder", dir_fd=fd)
    attempt("symlink in " + folder, os.symlink, "/", "dirfd-link", dir_fd=fd)
    attempt("rename into " + folder, lambda: (open("moving.txt", "w").close(), os.rename("moving.txt", name, dst_dir_fd=fd)))
finish()
