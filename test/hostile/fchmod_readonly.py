# Changes modes without write access: os.fchmod on a descriptor opened read-only (setuid bit), chmod
# of the canary, and fchmodat2 with AT_EMPTY_PATH on an O_PATH descriptor of the secret file (O_PATH
# opens are not checked by Landlock). A scratch file stands in for a system binary.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import stat

with open("victim", "w") as f:
    f.write("#!/bin/sh\n")
fd = os.open("victim", os.O_RDONLY)
attempt("fchmod(read-only descriptor, setuid)", os.fchmod, fd, 0o4755)
attempt("chmod(scratch file, setuid)", os.chmod, "victim", 0o4755)
attempt("chmod(secret, setuid)", os.chmod, "{{SECRET_FILE}}", 0o4777)
secret = step("O_PATH descriptor of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)
AT_EMPTY_PATH = 0x1000
attempt("fchmodat2(O_PATH descriptor, '', AT_EMPTY_PATH)", syscall, 452, fd if secret is None else secret, b"", 0o4777, AT_EMPTY_PATH)
attempt("fchmodat(secret)", syscall, nr(268, 53), -100, b"{{SECRET_FILE}}", 0o4777)
if os.stat("victim").st_mode & stat.S_ISUID:
    print(HOLE, "the scratch file became setuid")
finish()
