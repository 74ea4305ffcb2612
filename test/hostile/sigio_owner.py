# Makes the kernel signal the worker on its behalf: F_SETOWN names the worker (and then its process
# group) as the owner of a pipe, F_SETSIG picks SIGKILL, O_ASYNC arms it, and a write fires it. No
# kill call is made, so a filter on kill does not see it. If it got through, the worker would die.
import fcntl
import os
import signal
import time

F_SETSIG = getattr(fcntl, "F_SETSIG", 10)
worker = os.getppid()
for owner in (worker, -os.getpgid(worker)):
    r, w = os.pipe()
    fcntl.fcntl(r, fcntl.F_SETOWN, owner)
    fcntl.fcntl(r, F_SETSIG, signal.SIGKILL)
    fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC)
    os.write(w, b"x")
time.sleep(0.3)
print("the worker was signalled through SIGIO ownership, if the kernel let it")
import matplotlib.pyplot as plt

plt.plot([0, 1], [1, 0])
