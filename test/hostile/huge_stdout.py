# Prints about 20 MB, then draws.
import sys
for i in range(20000):
    sys.stdout.write("x" * 1000 + "\n")
import matplotlib.pyplot as plt
plt.plot([0, 1])
