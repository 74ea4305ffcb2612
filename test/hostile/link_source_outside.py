# Hard-links files from outside into scratch, where they could then be read (and, for a file the
# render may not write, written): the secret file, the repository's package.json, and the secret again
# through /proc/self/fd of an O_PATH descriptor (linkat with AT_SYMLINK_FOLLOW). The destination is
# inside scratch, so a check of the destination alone lets it through. Whatever it links it prints.

import errno
import os

# {{PRELUDE attempts}}


def link_and_read(source, name, **kwargs):
    os.link(source, name, **kwargs)
    with open(name) as f:
        print(name, f.read(200))


attempt("link the secret into scratch", link_and_read, "{{SECRET_FILE}}", "stolen.txt")
attempt("link package.json into scratch", link_and_read, "{{REPO}}/package.json", "package.json")
secret = step("O_PATH descriptor of the secret", os.open, "{{SECRET_FILE}}", os.O_PATH)
if secret is not None:
    attempt("link it through /proc/self/fd", link_and_read, "/proc/self/fd/%d" % secret, "stolen2.txt", follow_symlinks=True)
finish()
