# Fills the disk from scratch: 60 MiB files, one after another, well past the render's disk cap,
# saying after each how much it has written. The render must end with an error before the total
# goes much past the cap.
import os
import time

chunk = b"\x5a" * (1 << 20)
total = 0
for n in range(16):
    with open("fill-%02d.bin" % n, "wb") as f:
        for _ in range(60):
            f.write(chunk)
    total += 60
    print("wrote %d MiB" % total, flush=True)
time.sleep(1)
print("REFIGURE-" + "HOLE", "wrote %d MiB and was not stopped" % total, flush=True)
