# Changes owners, times and extended attributes of the canary, and of a scratch file (Landlock does
# not cover these): chown, utime, setxattr by path, and fchownat/utimensat on an O_PATH descriptor.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


open("victim", "w").close()
for path in ("{{SECRET_FILE}}", "victim"):
    attempt("chown " + path, os.chown, path, 65534, 65534)
    attempt("lchown " + path, os.lchown, path, 65534, 65534)
    attempt("utime " + path, os.utime, path, (0, 0))
    attempt("setxattr " + path, os.setxattr, path, "user.refigure", b"planted")
fd = step("O_PATH descriptor of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)
if fd is None:
    fd = os.open("victim", os.O_RDONLY)
AT_EMPTY_PATH = 0x1000
attempt("fchownat(descriptor, '', AT_EMPTY_PATH)", syscall, nr(260, 54), fd, b"", 65534, 65534, AT_EMPTY_PATH)
attempt("utimensat(descriptor, NULL)", syscall, nr(280, 88), fd, None, None, 0)
attempt("utimensat(secret)", syscall, nr(280, 88), -100, b"{{SECRET_FILE}}", None, 0)
finish()
