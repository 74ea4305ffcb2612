# Writes and reads outside scratch through SQLite, whose file access has no audit event of its own:
# VACUUM INTO a new file, ATTACH a new database and create a table in it, ATTACH the secret file, and
# VACUUM INTO the secret to overwrite it.

import errno
import os

# {{PRELUDE attempts}}


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
