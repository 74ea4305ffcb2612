# Kills the render worker with pidfd_send_signal: through pidfd_open, and through an O_PATH
# descriptor of /proc/<worker> (which Landlock does not check at open).

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import signal

worker = os.getppid()
pidfds = []
attempt("pidfd_open(worker)", lambda: pidfds.append(syscall(434, worker, 0)))
pidfds.append(step("O_PATH /proc/<worker>", os.open, "/proc/%d" % worker, os.O_PATH | os.O_DIRECTORY))
pidfds = [fd for fd in pidfds if fd is not None]
for index in range(max(1, len(pidfds))):
    fd = pidfds[index] if pidfds else 0
    attempt("pidfd_send_signal(worker, SIGKILL) #%d" % index, syscall, 424, fd, int(signal.SIGKILL), None, 0)
finish()
