# Opens performance counters with perf_event_open: on the worker, and on every process of the CPU.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import struct

attr = ctypes.create_string_buffer(struct.pack("=II", 1, 128), 128)  # PERF_TYPE_SOFTWARE, size
attempt("perf_event_open(worker)", syscall, nr(298, 241), attr, os.getppid(), -1, -1, 0)
attempt("perf_event_open(whole CPU)", syscall, nr(298, 241), attr, -1, 0, -1, 0)
attempt("perf_event_open(self)", syscall, nr(298, 241), attr, 0, -1, -1, 0)
finish()
