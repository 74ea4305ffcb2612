# Makes the kernel signal other processes on its behalf: F_SETOWN (and F_SETOWN_EX) names the worker,
# the worker's process group, or the Node process as the owner of a pipe, F_SETSIG picks the signal
# (SIGKILL for the worker), O_ASYNC arms it, and a write fires it. No kill call is made, so a filter
# on kill alone does not see it; naming another process as owner is the hole.

import errno
import os

# {{PRELUDE attempts}}


import fcntl
import signal
import struct
import time

F_SETSIG, F_SETOWN_EX, F_OWNER_PID = getattr(fcntl, "F_SETSIG", 10), 15, 1
worker = os.getppid()


def own_and_fire(owner, sig, extended=False):
    r, w = os.pipe()
    if extended:
        fcntl.fcntl(r, F_SETOWN_EX, struct.pack("ii", F_OWNER_PID, owner))
    else:
        fcntl.fcntl(r, fcntl.F_SETOWN, owner)
    fcntl.fcntl(r, F_SETSIG, sig)
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(w, b"x")
    time.sleep(0.2)


attempt("F_SETOWN(worker), SIGKILL", own_and_fire, worker, signal.SIGKILL)
attempt("F_SETOWN(worker's group), SIGKILL", own_and_fire, -os.getpgid(worker), signal.SIGKILL)
attempt("F_SETOWN_EX(worker), SIGKILL", own_and_fire, worker, signal.SIGKILL, extended=True)
attempt("F_SETOWN(Node), SIGWINCH", own_and_fire, {{NODE_PID}}, signal.SIGWINCH)
finish()
