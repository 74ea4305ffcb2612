# The vector field F(x, y) = (-y, x) drawn with arrows coloured by magnitude.
import matplotlib.pyplot as plt
import numpy as np

x, y = np.meshgrid(np.linspace(-2, 2, 13), np.linspace(-2, 2, 13))
u, v = -y, x
magnitude = np.hypot(u, v)

fig, ax = plt.subplots(figsize=(5.5, 5))
q = ax.quiver(x, y, u, v, magnitude, cmap="viridis", pivot="mid", scale=30)
fig.colorbar(q, ax=ax, label="|F|")
ax.set_title(r"$\mathbf{F}(x, y) = (-y,\ x)$")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_aspect("equal")
plt.show()
