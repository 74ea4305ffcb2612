# The surface z = sin(r)/r over a square, with a colour bar.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-8, 8, 60)
X, Y = np.meshgrid(x, x)
R = np.hypot(X, Y) + 1e-9
Z = np.sin(R) / R

fig = plt.figure(figsize=(6.4, 5))
ax = fig.add_subplot(projection="3d")
surf = ax.plot_surface(X, Y, Z, cmap="coolwarm", linewidth=0, antialiased=True, rstride=1, cstride=1)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.set_zlabel("z")
ax.set_title(r"$z = \sin(r)/r$")
ax.view_init(elev=30, azim=-60)
fig.colorbar(surf, shrink=0.6, pad=0.1)
plt.show()
