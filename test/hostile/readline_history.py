# Writes and reads files outside scratch through readline's history functions, which open files in C
# without an audit event: write and append a history file in the canary folder, and load the secret
# file as history, printing every line.

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


import readline

readline.add_history("escaped")
attempt("write_history_file in the canary folder", readline.write_history_file, "{{OUTSIDE}}/history")
attempt("append_history_file to the secret", readline.append_history_file, 1, "{{SECRET_FILE}}")


def read_secret():
    readline.clear_history()
    readline.read_history_file("{{SECRET_FILE}}")
    print([readline.get_history_item(i + 1) for i in range(readline.get_current_history_length())])


attempt("read_history_file of the secret", read_secret)
finish()
