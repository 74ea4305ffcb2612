# Loads eBPF: creates a map and loads a socket filter program through the bpf system call.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


import struct

BPF = nr(321, 280)
map_attr = ctypes.create_string_buffer(struct.pack("=IIII", 2, 4, 8, 16), 128)  # BPF_MAP_TYPE_ARRAY
attempt("bpf(BPF_MAP_CREATE)", syscall, BPF, 0, map_attr, 128)
program = ctypes.create_string_buffer(struct.pack("=BBhi", 0xB7, 0, 0, 0) + struct.pack("=BBhi", 0x95, 0, 0, 0))  # r0 = 0; exit
license = ctypes.create_string_buffer(b"GPL")
prog_attr = ctypes.create_string_buffer(struct.pack("=IIQQ", 1, 2, ctypes.addressof(program), ctypes.addressof(license)), 128)
attempt("bpf(BPF_PROG_LOAD)", syscall, BPF, 5, prog_attr, 128)
finish()
