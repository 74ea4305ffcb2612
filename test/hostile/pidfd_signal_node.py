# Signals the Node process that runs Refigure (the VS Code extension host, or the CLI) with
# pidfd_send_signal. It probes with signal 0 first: a probe that gets through is already the hole,
# and then it stops short of killing the test's own process.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import signal

node = {{NODE_PID}}
pidfds = []
attempt("pidfd_open(Node)", lambda: pidfds.append(syscall(434, node, 0)))
pidfds.append(step("O_PATH /proc/<Node>", os.open, "/proc/%d" % node, os.O_PATH | os.O_DIRECTORY))
pidfds = [fd for fd in pidfds if fd is not None]
fd = pidfds[0] if pidfds else 0
if not attempt("pidfd_send_signal(Node, 0)", syscall, 424, fd, 0, None, 0):
    attempt("pidfd_send_signal(Node, SIGKILL)", syscall, 424, fd, int(signal.SIGKILL), None, 0)
finish()
