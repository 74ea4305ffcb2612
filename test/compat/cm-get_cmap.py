# Colours picked from a colormap the pre-3.11 way: matplotlib.cm.get_cmap and plt.cm.get_cmap.
import matplotlib.cm as cm
import matplotlib.pyplot as plt
import numpy as np

five = cm.get_cmap("viridis", 5)
assert five.N == 5
colors = plt.cm.get_cmap("plasma")(np.linspace(0, 1, 4))
fig, ax = plt.subplots(figsize=(4, 3))
ax.bar(range(4), [3, 1, 4, 1], color=colors)
ax.scatter([0, 1, 2], [1, 2, 3], c=[0, 1, 2], cmap=five)
