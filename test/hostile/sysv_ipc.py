# Creates System V IPC objects (shared memory, message queues, semaphores) and a POSIX message queue:
# kernel objects outside scratch that outlive the render (shared memory is not counted by the address
# space limit). Each one made is removed again at once.

import errno
import os

# {{PRELUDE attempts}}


import ctypes
import platform

# {{PRELUDE syscalls}}


IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0


def make(what, get, args, remove):
    def run():
        ident = syscall(get, *args)
        print(HOLE, what, "created (id %d), removing it" % ident, flush=True)
        syscall(remove, ident, IPC_RMID, None) if what != "semaphore" else syscall(remove, ident, 0, IPC_RMID)
    attempt(what, run)


make("shared memory", nr(29, 194), (IPC_PRIVATE, 64 << 20, IPC_CREAT | 0o600), nr(31, 195))
make("message queue", nr(68, 186), (IPC_PRIVATE, IPC_CREAT | 0o600), nr(71, 187))
make("semaphore", nr(64, 190), (IPC_PRIVATE, 1, IPC_CREAT | 0o600), nr(66, 191))


def mq():
    syscall(nr(240, 180), b"refigure-hostile", os.O_CREAT | os.O_RDWR, 0o600, None)
    print(HOLE, "POSIX message queue created", flush=True)
    syscall(nr(241, 181), b"refigure-hostile")


attempt("mq_open", mq)
finish()
