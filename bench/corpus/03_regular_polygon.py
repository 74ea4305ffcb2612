# Regular hexagon inscribed in a circle, with its diagonals from one vertex and vertex labels.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, RegularPolygon

fig, ax = plt.subplots(figsize=(5, 5))
ax.add_patch(Circle((0, 0), 1.0, fill=False, linestyle="--", edgecolor="gray"))
ax.add_patch(RegularPolygon((0, 0), numVertices=6, radius=1.0, orientation=np.pi / 6, fill=False, edgecolor="black", linewidth=2))

angles = np.pi / 2 + np.arange(6) * np.pi / 3
vertices = np.column_stack([np.cos(angles), np.sin(angles)])
for i in (2, 3, 4):
    ax.plot([vertices[0, 0], vertices[i, 0]], [vertices[0, 1], vertices[i, 1]], color="tab:blue", linewidth=1.2)
for name, (x, y) in zip("ABCDEF", vertices):
    ax.text(1.15 * x, 1.15 * y, name, ha="center", va="center", fontsize=14)
ax.plot(0, 0, "k.", markersize=8)
ax.text(0.05, -0.12, "O", fontsize=12)
ax.set_title("Regular hexagon ABCDEF, side 1")
ax.set_xlim(-1.4, 1.4)
ax.set_ylim(-1.4, 1.4)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
