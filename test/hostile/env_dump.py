# Prints every environment variable it can find, its own and its parent's.
import os
print(dict(os.environ))
for path in ("/proc/self/environ", "/proc/%d/environ" % os.getppid(), "/proc/1/environ"):
    try:
        print(path, open(path, "rb").read())
    except OSError as error:
        print(path, error)
import matplotlib.pyplot as plt
plt.plot([0, 1])
