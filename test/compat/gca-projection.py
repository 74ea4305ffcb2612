# 3-D and polar axes obtained with gca(projection=...), through a figure and through pyplot.
import matplotlib.pyplot as plt
import numpy as np

fig = plt.figure()
ax = fig.gca(projection="3d")
X, Y = np.meshgrid(np.linspace(-2, 2, 20), np.linspace(-2, 2, 20))
ax.plot_surface(X, Y, np.exp(-(X ** 2 + Y ** 2)), cmap="viridis")
assert ax.name == "3d" and fig.gca() is ax

plt.figure()
polar = plt.gca(projection="polar")
polar.plot(np.linspace(0, 2 * np.pi, 50), np.linspace(0, 1, 50))
assert polar.name == "polar"
