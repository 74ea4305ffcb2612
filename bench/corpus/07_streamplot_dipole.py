# Electric field lines of a dipole (streamplot) with the two charges.
import matplotlib.pyplot as plt
import numpy as np

x, y = np.meshgrid(np.linspace(-3, 3, 120), np.linspace(-2, 2, 80))


def field(q, x0, y0):
    dx, dy = x - x0, y - y0
    r3 = np.hypot(dx, dy) ** 3 + 1e-9
    return q * dx / r3, q * dy / r3


ex1, ey1 = field(1, -1, 0)
ex2, ey2 = field(-1, 1, 0)
ex, ey = ex1 + ex2, ey1 + ey2

fig, ax = plt.subplots(figsize=(6.4, 4.4))
ax.streamplot(x, y, ex, ey, color=np.log(np.hypot(ex, ey)), cmap="plasma", density=1.4, linewidth=1, arrowsize=1)
ax.add_patch(plt.Circle((-1, 0), 0.15, color="red", zorder=3))
ax.add_patch(plt.Circle((1, 0), 0.15, color="blue", zorder=3))
ax.text(-1, 0, "+", color="white", ha="center", va="center", fontsize=14, zorder=4)
ax.text(1, 0, "\u2212", color="white", ha="center", va="center", fontsize=14, zorder=4)
ax.set_xlim(-3, 3)
ax.set_ylim(-2, 2)
ax.set_aspect("equal")
ax.set_title("Electric dipole: field lines")
plt.show()
