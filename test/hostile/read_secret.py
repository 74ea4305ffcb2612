# Reads what a render must not see, and prints whatever it gets: the secret file, the repository
# (package.json, git config, a listing), the home folder and the canary folder listings.

import errno
import os

# {{PRELUDE attempts}}


def show(path):
    with open(path) as f:
        print(path, f.read(400))


attempt("read the secret", show, "{{SECRET_FILE}}")
attempt("read package.json", show, "{{REPO}}/package.json")
attempt("read .git/config", show, "{{REPO}}/.git/config")
attempt("list the repository", lambda: print(os.listdir("{{REPO}}")))
attempt("list the home folder", lambda: print(os.listdir(os.path.dirname("{{HOME_TARGET}}"))))
attempt("list the canary folder", lambda: print(os.listdir("{{OUTSIDE}}")))
finish()
