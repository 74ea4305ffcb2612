# A 3-D axes created as Axes3D(fig): before matplotlib 3.6 it added itself to the figure.
import matplotlib.pyplot as plt
import numpy as np
from mpl_toolkits.mplot3d import Axes3D

fig = plt.figure()
ax = Axes3D(fig)
t = np.linspace(0, 4 * np.pi, 200)
ax.plot(np.cos(t), np.sin(t), t)
assert ax in fig.axes, "the 3-D axes is not in the figure: the figure would render blank"
