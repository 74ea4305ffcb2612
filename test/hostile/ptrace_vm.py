# Reads the worker's memory: ptrace attach and seize, PTRACE_TRACEME, and process_vm_readv at an
# address the child knows holds the same object in the worker (a forked child shares its layout).
# A read that gets through is the hole; the write-back then repeats the bytes just read.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import sys

worker, node = os.getppid(), {{NODE_PID}}
PTRACE = nr(101, 117)
attempt("ptrace(PTRACE_ATTACH, worker)", syscall, PTRACE, 16, worker, None, None)
attempt("ptrace(PTRACE_SEIZE, Node)", syscall, PTRACE, 0x4206, node, None, None)
attempt("ptrace(PTRACE_TRACEME)", syscall, PTRACE, 0, 0, None, None)


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


buffer = ctypes.create_string_buffer(64)
local = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 64)
remote = Iovec(id(sys.modules), 64)  # the same dictionary sits at the same address in the worker
if attempt("process_vm_readv(worker)", syscall, nr(310, 270), worker, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0):
    attempt("process_vm_writev(worker)", syscall, nr(311, 271), worker, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
else:
    empty = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 0)
    attempt("process_vm_writev(worker)", syscall, nr(311, 271), worker, ctypes.byref(empty), 1, ctypes.byref(empty), 1, 0)
attempt("process_vm_readv(Node)", syscall, nr(310, 270), node, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
finish()
