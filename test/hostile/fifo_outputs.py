# Puts FIFOs where files are read: the worker's fixed output names and the staged original in the
# request folder (a reader would block), and a FIFO in scratch, by path and through a descriptor of
# the parent.

import errno
import os

# {{PRELUDE attempts}}


import stat

for name in ("../out.png", "../diff.png", "../original.png", "fifo.png"):
    attempt("mkfifo " + name, os.mkfifo, name)
attempt("replace the staged original with a FIFO", lambda: (os.remove("../original.png"), os.mkfifo("../original.png")))
parent = step("O_PATH descriptor of the parent", os.open, "..", os.O_PATH | os.O_DIRECTORY)
if parent is not None:
    attempt("mkfifo out.png through the parent's descriptor", os.mkfifo, "out.png", dir_fd=parent)
    attempt("mknod a FIFO through the parent's descriptor", os.mknod, "diff.png", stat.S_IFIFO | 0o644, dir_fd=parent)
finish()
