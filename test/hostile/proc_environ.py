# Reads other processes' environment, command line and memory map through /proc: the Node process
# (whose environment holds REFIGURE_API_KEY), the worker, and pid 1. Whatever it reads it prints.

import errno
import os

# {{PRELUDE attempts}}


def read(path):
    with open(path, "rb") as f:
        data = f.read(65536)
    print(path, data.replace(b"\0", b"\n").decode("utf-8", "replace"))


for name, pid in (("<Node>", {{NODE_PID}}), ("<worker>", os.getppid()), ("1", 1)):
    for entry in ("environ", "cmdline", "maps", "status"):
        attempt("/proc/%s/%s" % (name, entry), read, "/proc/%d/%s" % (pid, entry))
attempt("list /proc", lambda: print(os.listdir("/proc")))
finish()
