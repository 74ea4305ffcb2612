# Reaches files through /proc's magic links: reopens an O_PATH descriptor of the secret file (O_PATH
# opens are not checked by Landlock) for reading, opens the worker's own descriptors (its protocol
# pipes) for writing, and reads the secret through the worker's root link.

import errno
import os

# {{PRELUDE attempts}}


worker = os.getppid()
secret = step("O_PATH open of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)


def reopen():
    fd = os.open("/proc/self/fd/%d" % secret, os.O_RDONLY)
    print(os.read(fd, 4096))


if secret is not None:
    attempt("reopen it through /proc/self/fd", reopen)
for fd in range(0, 8):
    attempt("open /proc/<worker>/fd/%d for writing" % fd, lambda fd=fd: os.write(os.open("/proc/%d/fd/%d" % (worker, fd), os.O_WRONLY), b'{"id": 1, "ok": true}\n'))
attempt("read through /proc/<worker>/root", lambda: print(open("/proc/%d/root{{SECRET_FILE}}" % worker).read()))
finish()
