# Kills the render worker with raw system calls (no audit event): kill, tkill, tgkill,
# rt_sigqueueinfo, rt_tgsigqueueinfo, and kill of the worker's whole process group.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import signal

worker = os.getppid()
KILL = int(signal.SIGKILL)
info = ctypes.create_string_buffer(128)
info[0:4] = KILL.to_bytes(4, "little")
attempt("kill(worker)", syscall, nr(62, 129), worker, KILL)
attempt("kill(-worker group)", syscall, nr(62, 129), -os.getpgid(worker), KILL)
attempt("tkill(worker)", syscall, nr(200, 130), worker, KILL)
attempt("tgkill(worker)", syscall, nr(234, 131), worker, worker, KILL)
attempt("rt_sigqueueinfo(worker)", syscall, nr(129, 138), worker, KILL, info)
attempt("rt_tgsigqueueinfo(worker)", syscall, nr(297, 240), worker, worker, KILL, info)
finish()
