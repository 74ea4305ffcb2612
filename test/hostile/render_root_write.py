# Writes across the render root: the staged original and the output names in its own request folder,
# the worker's HOME and TMPDIR, a new request folder beside its own, and the root itself. It also
# lists the root to find other requests' folders and tries to write into each.

import errno
import os

# {{PRELUDE attempts}}


targets = ["../original.png", "../out.png", "../diff.png", "../planted.txt", "../../home/.bashrc",
           "../../tmp/planted.txt", "../../planted.txt"]
for path in targets:
    attempt("write " + path, lambda path=path: open(path, "a").write("planted"))
attempt("mkdir ../../r-forged", os.mkdir, "../../r-forged")
attempt("mkdir ../sibling", os.mkdir, "../sibling")
attempt("remove ../original.png", os.remove, "../original.png")


def into_others():
    for name in os.listdir("../.."):
        open(os.path.join("../..", name, "planted.txt"), "w").write("planted")


attempt("list the render root and write into every folder", into_others)
finish()
