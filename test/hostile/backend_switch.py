# Switches to an interactive backend and shows the figure.
import matplotlib
matplotlib.use("TkAgg")
import matplotlib.pyplot as plt
plt.plot([0, 1, 4])
plt.show()
