# Puts the worker's fixed output names (../out.png, ../diff.png) in place before the worker writes
# them: symlinks and hard links to a secret file, a hard link and a rename of a PNG from scratch.

import errno
import os

# {{PRELUDE attempts}}


with open("fake.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
for name in ("../out.png", "../diff.png"):
    attempt("symlink " + name, os.symlink, "{{SECRET_FILE}}", name)
    attempt("hard link of the secret as " + name, os.link, "{{SECRET_FILE}}", name)
    attempt("hard link of a scratch file as " + name, os.link, "fake.png", name)
attempt("rename a scratch file to ../out.png", os.rename, "fake.png", "../out.png")
finish()
