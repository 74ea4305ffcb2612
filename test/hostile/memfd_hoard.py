# Holds memory that an address-space limit does not count: anonymous memory files (memfd) written
# with write(), never mapped, 60 MiB each, past the render's memory limit. It waits, then draws.
import os
import time

chunk = b"\x5a" * (1 << 20)
held = []
total = 0
for n in range(20):
    fd = os.memfd_create("hoard-%d" % n)
    for _ in range(60):
        os.write(fd, chunk)
    held.append(fd)
    total += 60
    print("holding %d MiB" % total, flush=True)
time.sleep(0.5)
print("REFIGURE-" + "HOLE", "held %d MiB past the memory limit" % total, flush=True)
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, 1])
