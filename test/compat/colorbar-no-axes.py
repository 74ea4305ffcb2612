# A colorbar for a bare ScalarMappable (no Axes), the usual way to label line colours.
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(5, 3))
norm = mpl.colors.Normalize(vmin=0, vmax=4)
x = np.linspace(0, 1, 20)
for k in range(5):
    ax.plot(x, x ** (k + 1), color=plt.cm.viridis(norm(k)))
sm = plt.cm.ScalarMappable(cmap="viridis", norm=norm)
sm.set_array([])
bar = plt.colorbar(sm)
bar.set_label("exponent")
assert len(fig.axes) == 2
