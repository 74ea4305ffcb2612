# Kills the Node process that runs Refigure with raw system calls. A signal-0 probe that gets through
# is already the hole (and then it stops short of killing the test's own process); when the probe is
# refused it sends the real SIGKILL, by every call that takes a process id.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import signal

node = {{NODE_PID}}
KILL = int(signal.SIGKILL)
info = ctypes.create_string_buffer(128)
info[0:4] = KILL.to_bytes(4, "little")
if not attempt("kill(Node, 0)", syscall, nr(62, 129), node, 0):
    attempt("kill(Node)", syscall, nr(62, 129), node, KILL)
    attempt("tkill(Node)", syscall, nr(200, 130), node, KILL)
    attempt("tgkill(Node)", syscall, nr(234, 131), node, node, KILL)
    attempt("rt_sigqueueinfo(Node)", syscall, nr(129, 138), node, KILL, info)
finish()
