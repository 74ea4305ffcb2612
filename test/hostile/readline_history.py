# Writes and reads files outside scratch through readline's history functions, which open files in C
# without an audit event: write and append a history file in the canary folder, and load the secret
# file as history, printing every line.

import errno
import os

# {{PRELUDE attempts}}


import readline

readline.add_history("escaped")
attempt("write_history_file in the canary folder", readline.write_history_file, "{{OUTSIDE}}/history")
attempt("append_history_file to the secret", readline.append_history_file, 1, "{{SECRET_FILE}}")


def read_secret():
    readline.clear_history()
    readline.read_history_file("{{SECRET_FILE}}")
    print([readline.get_history_item(i + 1) for i in range(readline.get_current_history_length())])


attempt("read_history_file of the secret", read_secret)
finish()
