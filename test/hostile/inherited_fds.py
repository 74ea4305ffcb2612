# Takes stock of the descriptors the render inherits from the worker, and uses any that is not what
# the render needs: a directory (a way out through openat), a socket or an unknown pipe (the protocol
# channel), a file open for writing. Expected: stdin, stdout/stderr, the result pipe, and read-only
# regular files (fonts). It prints the start of every inherited regular file.

import errno
import os

# {{PRELUDE attempts}}


import fcntl
import stat

result_pipes = 0
for fd in range(3, 1024):
    try:
        info = os.fstat(fd)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        continue
    mode = flags & os.O_ACCMODE
    if stat.S_ISREG(info.st_mode) and mode == os.O_RDONLY:
        print("descriptor", fd, "read-only file of", info.st_size, "bytes:", os.pread(fd, 16, 0))
    elif stat.S_ISFIFO(info.st_mode) and mode == os.O_WRONLY and result_pipes == 0:
        result_pipes += 1
    else:
        print(HOLE, "descriptor", fd, "mode", oct(info.st_mode), "flags", oct(flags), flush=True)
        if stat.S_ISDIR(info.st_mode):
            attempt("create through the inherited directory", lambda: os.open("planted.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, 1])
