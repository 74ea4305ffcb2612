# Creates databases outside scratch with every dbm module this Python has: the C ones (gnu, ndbm)
# open their files without an audit event.

import errno
import os

# {{PRELUDE attempts}}


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
