# Triangle ABC with its angles marked and the side lengths labelled.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Polygon

A, B, C = np.array([0.0, 0.0]), np.array([6.0, 0.0]), np.array([2.0, 3.5])

fig, ax = plt.subplots(figsize=(6, 4.5))
ax.add_patch(Polygon([A, B, C], closed=True, fill=False, edgecolor="black", linewidth=2))


def angle_at(p, q, r):
    """Start and end angle (degrees) of the arc at p between rays p->q and p->r."""
    a1 = np.degrees(np.arctan2(*(q - p)[::-1]))
    a2 = np.degrees(np.arctan2(*(r - p)[::-1]))
    return (a1, a2) if (a2 - a1) % 360 < 180 else (a2, a1)


for p, q, r, label, radius in [(A, B, C, r"$60^\circ$", 0.9), (B, C, A, r"$41^\circ$", 1.1), (C, A, B, r"$79^\circ$", 0.7)]:
    t1, t2 = angle_at(p, q, r)
    ax.add_patch(Arc(p, 2 * radius, 2 * radius, theta1=t1, theta2=t2, color="tab:red", linewidth=1.5))
    mid = np.radians((t1 + (t2 - t1) % 360 / 2))
    ax.text(*(p + 1.45 * radius * np.array([np.cos(mid), np.sin(mid)])), label, ha="center", va="center", fontsize=11, color="tab:red")

for p, name, off in [(A, "A", (-0.3, -0.3)), (B, "B", (0.2, -0.3)), (C, "C", (0, 0.25))]:
    ax.text(p[0] + off[0], p[1] + off[1], name, fontsize=14, fontweight="bold")

ax.text(3.0, -0.45, "c = 6", ha="center", fontsize=12)
ax.text(4.3, 1.9, "a = 4.6", fontsize=12)
ax.text(0.4, 1.9, "b = 4.0", fontsize=12, ha="right")

ax.set_xlim(-1, 7)
ax.set_ylim(-1, 4.3)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
