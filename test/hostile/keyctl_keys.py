# Reaches the kernel keyrings: add a key to the session keyring, request one, and read the user
# keyring's contents, where other processes of the same user keep credentials.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


KEY_SPEC_SESSION, KEY_SPEC_USER = -3, -4
attempt("add_key", syscall, nr(248, 217), b"user", b"refigure", b"planted", 7, KEY_SPEC_SESSION)
attempt("request_key", syscall, nr(249, 218), b"user", b"refigure", None, KEY_SPEC_SESSION)
buffer = ctypes.create_string_buffer(4096)


def read_user_keyring():
    size = syscall(nr(250, 219), 11, KEY_SPEC_USER, buffer, 4096)  # KEYCTL_READ
    print("user keyring:", buffer.raw[:size])


attempt("keyctl(KEYCTL_READ, user keyring)", read_user_keyring)
finish()
