# Starts a program through the C helper behind subprocess without an audit event: subprocess's own
# reference to it (subprocess._fork_exec, which neutering the module does not reach), and a fresh copy
# of the helper module built by the original import function, recovered from a wrapper's
# __kwdefaults__. The program touches a file in the canary folder.

import errno
import os

# {{PRELUDE attempts}}


import _imp
import importlib.machinery
import importlib.util
import subprocess
import sys

argv = [b"/usr/bin/touch", b"{{OUTSIDE}}/fork_exec.txt"]


def run(fork_exec):
    r, w = os.pipe()
    pid = fork_exec(argv, [argv[0]], True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, -1, -1, None, False)
    os.waitpid(pid, 0)


attempt("subprocess._fork_exec", run, subprocess._fork_exec)


def fresh_copy():
    loaded = sys.modules.get("_posixsubprocess")
    origin = getattr(loaded, "__file__", None)
    if origin:  # built as an extension module
        spec, create = importlib.util.spec_from_file_location("_posixsubprocess", origin), _imp.create_dynamic
    else:  # built into the interpreter
        spec, create = importlib.machinery.ModuleSpec("_posixsubprocess", importlib.machinery.BuiltinImporter), _imp.create_builtin
    create = (getattr(create, "__kwdefaults__", None) or {}).get("_original", create)
    run(create(spec).fork_exec)


attempt("a fresh _posixsubprocess from the original import function", fresh_copy)
finish()
