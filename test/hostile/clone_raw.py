# Makes new processes with the raw clone system call (no audit event): a plain fork-like clone, one
# that makes a sibling of itself (CLONE_PARENT, a child of the worker), a thread with a new user
# namespace, and clone3.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import signal

SIGCHLD = int(signal.SIGCHLD)
CLONE = nr(56, 220)


def clone(flags):
    pid = syscall(CLONE, flags, 0, None, None, 0)
    if pid == 0:
        os._exit(0)  # the new process leaves at once
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


attempt("clone(SIGCHLD)", clone, SIGCHLD)
attempt("clone(CLONE_PARENT)", clone, 0x00008000 | SIGCHLD)
attempt("clone(thread + CLONE_NEWUSER)", syscall, CLONE, 0x00010000 | 0x00000800 | 0x00000100 | 0x10000000, 0, None, None, 0)


class CloneArgs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls")]


args = CloneArgs(exit_signal=SIGCHLD)


def clone3():
    pid = syscall(435, ctypes.byref(args), ctypes.sizeof(args))
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


attempt("clone3", clone3)
finish()
