# Races a path check: one thread keeps swapping two folders in scratch under one name, "cur", whose
# entry "x" is a symlink to a file inside in one and to the secret file outside in the other, while
# the main thread appends to cur/x thousands of times. Every path a check sees is inside scratch
# until the last component resolves, so a check made before the open can be won; the kernel's check
# at open cannot.
import os
import threading

os.makedirs("in")
os.makedirs("out")
inner = os.path.abspath("in-target.txt")
open(inner, "w").close()
os.symlink(inner, "in/x")
os.symlink("{{SECRET_FILE}}", "out/x")
os.rename("in", "cur")
done = threading.Event()
flips = []


def flip():
    while not done.is_set():
        os.rename("cur", "in")
        os.rename("out", "cur")
        os.rename("cur", "out")
        os.rename("in", "cur")
        flips.append(1)


thread = threading.Thread(target=flip)
thread.start()
inside = refused = 0
try:
    for _ in range(3000):
        try:
            with open("cur/x", "a") as f:
                f.write("x")
            inside += 1
        except OSError:
            refused += 1
finally:
    done.set()
    thread.join()
print("race over after %d swaps: %d appends, %d refused; the inside file holds %d bytes" % (len(flips), inside, refused, os.path.getsize(inner)))
import matplotlib.pyplot as plt

plt.plot([0, 1], [0, 1])
