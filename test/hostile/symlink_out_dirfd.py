# Plants the worker's fixed output names in the request folder (scratch's parent) as symlinks to a
# secret file, with os.symlink(target, "out.png", dir_fd=…): the path is relative, so a check of the
# path alone sees it inside scratch. Both an O_PATH and an ordinary descriptor of the parent are tried.

import errno
import os

# {{PRELUDE attempts}}


dirs = [step("O_PATH descriptor of scratch's parent", os.open, "..", os.O_PATH | os.O_DIRECTORY)]
attempt("read descriptor of scratch's parent", lambda: dirs.append(os.open("..", os.O_RDONLY | os.O_DIRECTORY)))
dirs = [fd for fd in dirs if fd is not None]
for index, fd in enumerate(dirs):
    for name in ("out.png", "diff.png"):
        attempt("symlink %s (descriptor %d)" % (name, index), os.symlink, "{{SECRET_FILE}}", name, dir_fd=fd)
finish()
