# Types into the user's terminal: TIOCSTI and TIOCLINUX on every standard descriptor and on the
# controlling terminal, and a new pseudo-terminal. (The render has no terminal; the refusal must come
# from the filter, not from the missing terminal.)

import errno
import os

# {{PRELUDE attempts}}


import fcntl
import termios

TIOCSTI = getattr(termios, "TIOCSTI", 0x5412)
for fd in (0, 1, 2):
    attempt("TIOCSTI on descriptor %d" % fd, fcntl.ioctl, fd, TIOCSTI, b"x")
    attempt("TIOCLINUX on descriptor %d" % fd, fcntl.ioctl, fd, 0x541C, b"\x02")
attempt("open /dev/tty", lambda: fcntl.ioctl(os.open("/dev/tty", os.O_RDWR), TIOCSTI, b"x"))
attempt("openpty", os.openpty)
finish()
