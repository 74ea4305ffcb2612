# Sets up io_uring, whose requests bypass system call filters once the ring runs.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


params = ctypes.create_string_buffer(120)
attempt("io_uring_setup", syscall, 425, 8, params)
attempt("io_uring_enter", syscall, 426, 0, 0, 0, 0, None, 0)
attempt("io_uring_register", syscall, 427, 0, 0, None, 0)
finish()
