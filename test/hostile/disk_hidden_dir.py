# Hides disk use from a check that walks scratch: the files go into a folder with mode 0300 (write and
# search, no read), which a walker without CAP_DAC_OVERRIDE cannot list. Well past the render's disk
# cap, it waits for the checks to run, then draws.
import os
import time

os.mkdir("hidden", 0o300)
chunk = b"\x5a" * (1 << 20)
total = 0
for n in range(12):
    with open("hidden/fill-%02d.bin" % n, "wb") as f:
        for _ in range(60):
            f.write(chunk)
    total += 60
    print("wrote %d MiB" % total, flush=True)
time.sleep(1)
print("REFIGURE-" + "HOLE", "wrote %d MiB unseen" % total, flush=True)
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, 1])
