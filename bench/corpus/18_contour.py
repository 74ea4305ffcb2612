# Contour lines (labelled) over filled contours of f(x, y) = x e^{-x^2-y^2}.
import matplotlib.pyplot as plt
import numpy as np

x, y = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-2, 2, 200))
z = x * np.exp(-x ** 2 - y ** 2)
fig, ax = plt.subplots(figsize=(5.8, 4.8))
filled = ax.contourf(x, y, z, levels=14, cmap="RdBu_r")
lines = ax.contour(x, y, z, levels=7, colors="black", linewidths=0.8)
ax.clabel(lines, inline=True, fontsize=8, fmt="%.2f")
fig.colorbar(filled, ax=ax)
ax.set_title(r"$f(x,y) = x\,e^{-x^2-y^2}$")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_aspect("equal")
plt.show()
