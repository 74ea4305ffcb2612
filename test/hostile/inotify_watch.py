# Watches folders it may not read with inotify, learning the names of files created, opened and
# changed there: the canary folder, the home folder, the render root.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


inotify = step("inotify_init1", syscall, nr(294, 26), 0)
for path in ("{{OUTSIDE}}", os.path.dirname("{{HOME_TARGET}}"), "../.."):
    attempt("watch " + path, syscall, nr(254, 27), 0 if inotify is None else inotify, path.encode(), 0xFFF)
finish()
