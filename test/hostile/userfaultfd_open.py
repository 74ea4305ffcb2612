# Gets a userfaultfd, the classic tool for winning kernel races: the system call, and /dev/userfaultfd.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


attempt("userfaultfd", syscall, nr(323, 282), 0)
attempt("open /dev/userfaultfd", os.open, "/dev/userfaultfd", os.O_RDWR)
finish()
