# Changes other processes' resource limits with prlimit64, which checks only that the user ids match:
# the worker's CPU limit set to one second (it has used more: the kernel would kill it with SIGXCPU),
# and, for the Node process, a write of its own current value (which changes nothing but needs the
# same right).

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


class Rlimit(ctypes.Structure):
    _fields_ = [("cur", ctypes.c_uint64), ("max", ctypes.c_uint64)]


PRLIMIT, RLIMIT_CPU, RLIMIT_NOFILE = nr(302, 261), 0, 7
worker, node = os.getppid(), {{NODE_PID}}
attempt("prlimit64(worker, RLIMIT_CPU = 1 s)", syscall, PRLIMIT, worker, RLIMIT_CPU, ctypes.byref(Rlimit(1, 1)), None)
current = Rlimit()
attempt("prlimit64(Node) read", syscall, PRLIMIT, node, RLIMIT_NOFILE, None, ctypes.byref(current))
attempt("prlimit64(Node) write", syscall, PRLIMIT, node, RLIMIT_NOFILE, ctypes.byref(current), None)
finish()
