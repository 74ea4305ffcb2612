# Replaces the render with another program through libc and raw system calls: execve, and execveat
# of a copy of the program made in scratch (where Landlock allows executing). The program touches a
# file in the canary folder.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


argv = (ctypes.c_char_p * 3)(b"/usr/bin/touch", b"{{OUTSIDE}}/execve.txt", None)
envp = (ctypes.c_char_p * 1)(None)


def libc_execve():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.execve(b"/usr/bin/touch", argv, envp)
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code))


attempt("libc execve", libc_execve)
attempt("execve system call", syscall, nr(59, 221), b"/usr/bin/touch", argv, envp)


def copy_exec():
    with open("/usr/bin/touch", "rb") as f:
        program = f.read()
    fd = os.open("touch-copy", os.O_CREAT | os.O_WRONLY, 0o755)
    os.write(fd, program)
    os.close(fd)
    fd = os.open("touch-copy", os.O_RDONLY)
    syscall(nr(322, 281), fd, b"", argv, envp, 0x1000)  # AT_EMPTY_PATH


attempt("execveat of a copy in scratch", copy_exec)
finish()
