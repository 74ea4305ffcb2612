# A binary search tree drawn with circles and lines.
import matplotlib.pyplot as plt

nodes = {
    50: (0.0, 3), 30: (-2.0, 2), 70: (2.0, 2), 20: (-3.0, 1), 40: (-1.0, 1),
    60: (1.0, 1), 80: (3.0, 1), 35: (-1.5, 0), 45: (-0.5, 0), 85: (3.5, 0),
}
edges = [(50, 30), (50, 70), (30, 20), (30, 40), (70, 60), (70, 80), (40, 35), (40, 45), (80, 85)]

fig, ax = plt.subplots(figsize=(6.4, 4))
for a, b in edges:
    (x0, y0), (x1, y1) = nodes[a], nodes[b]
    ax.plot([x0, x1], [y0, y1], color="gray", linewidth=1.5, zorder=1)
for key, (x, y) in nodes.items():
    ax.add_patch(plt.Circle((x, y), 0.3, facecolor="lightyellow", edgecolor="black", linewidth=1.5, zorder=2))
    ax.text(x, y, str(key), ha="center", va="center", fontsize=11, zorder=3)
ax.set_xlim(-3.7, 4.2)
ax.set_ylim(-0.6, 3.6)
ax.set_aspect("equal")
ax.axis("off")
ax.set_title("Binary search tree")
plt.show()
