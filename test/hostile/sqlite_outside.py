# Writes and reads outside scratch through SQLite, whose file access has no audit event of its own:
# VACUUM INTO a new file, ATTACH a new database and create a table in it, ATTACH the secret file, and
# VACUUM INTO the secret to overwrite it.

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


import sqlite3

db = sqlite3.connect(":memory:")
db.execute("CREATE TABLE t (x)")
db.execute("INSERT INTO t VALUES ('escaped')")
db.commit()
failures = (OSError, sqlite3.Error)
attempt("VACUUM INTO the canary folder", db.execute, "VACUUM INTO '{{OUTSIDE}}/vacuum.db'", catch=failures)


def attach_and_write():
    db.execute("ATTACH DATABASE '{{OUTSIDE}}/attached.db' AS other")
    try:
        db.execute("CREATE TABLE other.t (x)")
        db.execute("INSERT INTO other.t VALUES ('escaped')")
        db.commit()
    finally:
        db.execute("DETACH DATABASE other")


def attach_secret():
    db.execute("ATTACH DATABASE 'file:{{SECRET_FILE}}?mode=ro' AS secret")
    try:
        print(db.execute("SELECT * FROM secret.sqlite_master").fetchall())
    finally:
        db.execute("DETACH DATABASE secret")


attempt("ATTACH a new database in the canary folder", attach_and_write, catch=failures)
db.close()
db = sqlite3.connect(":memory:", uri=True)
attempt("ATTACH the secret file", attach_secret, catch=failures)
attempt("VACUUM INTO the secret", db.execute, "VACUUM INTO '{{SECRET_FILE}}'", catch=failures)
finish()
