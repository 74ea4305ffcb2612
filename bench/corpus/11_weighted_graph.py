# A weighted undirected graph with a highlighted shortest path from A to E.
import matplotlib.pyplot as plt

pos = {"A": (0, 1), "B": (1.5, 2), "C": (1.5, 0), "D": (3, 2), "E": (4.5, 1), "F": (3, 0)}
edges = [("A", "B", 4), ("A", "C", 2), ("B", "C", 1), ("B", "D", 5), ("C", "F", 8), ("D", "F", 2), ("D", "E", 3), ("F", "E", 6)]
path = {("A", "C"), ("C", "B"), ("B", "D"), ("D", "E")}

fig, ax = plt.subplots(figsize=(6.4, 3.6))
for a, b, w in edges:
    on_path = (a, b) in path or (b, a) in path
    (x0, y0), (x1, y1) = pos[a], pos[b]
    ax.plot([x0, x1], [y0, y1], color="crimson" if on_path else "black", linewidth=3 if on_path else 1.5, zorder=1)
    ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, str(w), ha="center", fontsize=11,
            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none"))
for name, (x, y) in pos.items():
    ax.add_patch(plt.Circle((x, y), 0.22, facecolor="skyblue", edgecolor="navy", linewidth=1.5, zorder=2))
    ax.text(x, y, name, ha="center", va="center", fontsize=12, fontweight="bold", zorder=3)
ax.set_xlim(-0.5, 5)
ax.set_ylim(-0.5, 2.5)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
