# Creates files outside scratch through os.open(name, O_CREAT, dir_fd=…): the name is relative, so a
# check of the path alone sees it inside scratch. Directory descriptors: the canary folder, the home
# folder (the file named as the test's home target), scratch's parent and the render root.

import errno
import os

# {{PRELUDE attempts}}


home, home_name = os.path.split("{{HOME_TARGET}}")
places = [("{{OUTSIDE}}", "dirfd.txt"), (home, home_name), ("..", "dirfd.txt"), ("../..", "dirfd.txt")]
for folder, name in places:
    fd = step("O_PATH descriptor of " + folder, os.open, folder, os.O_PATH | os.O_DIRECTORY)
    if fd is None:
        continue
    attempt("create %s in %s" % (name, folder), lambda: os.write(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd), b"planted"))
    attempt("mkdir in " + folder, os.mkdir, "dirfd-folder", dir_fd=fd)
    attempt("symlink in " + folder, os.symlink, "/", "dirfd-link", dir_fd=fd)
    attempt("rename into " + folder, lambda: (open("moving.txt", "w").close(), os.rename("moving.txt", name, dst_dir_fd=fd)))
finish()
