# A block on an inclined plane with weight, normal force and friction drawn as arrows.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc, Polygon

angle = np.radians(30)
fig, ax = plt.subplots(figsize=(6.4, 4.2))
ax.add_patch(Polygon([[0, 0], [6, 0], [6, 6 * np.tan(angle)]], closed=True, facecolor="#e8e8e8", edgecolor="black", linewidth=2))
ax.add_patch(Arc((0, 0), 2.2, 2.2, theta1=0, theta2=30, color="black"))
ax.text(1.25, 0.22, r"$\theta = 30^\circ$", fontsize=12)

along = np.array([np.cos(angle), np.sin(angle)])
normal = np.array([-np.sin(angle), np.cos(angle)])
center = 3.6 * along + 0.5 * normal
corners = [center + sx * 0.6 * along + sy * 0.5 * normal for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]]
ax.add_patch(Polygon(corners, closed=True, facecolor="#f4b183", edgecolor="black", linewidth=1.5))
ax.text(*center, "m", ha="center", va="center", fontsize=14)

arrows = [
    (np.array([0, -2.0]), "tab:blue", r"$mg$", (0.1, -0.1)),
    (1.7 * normal, "tab:green", r"$N$", (-0.35, 0.0)),
    (1.3 * along, "tab:red", r"$f$", (0.1, 0.15)),
]
for vec, color, label, offset in arrows:
    ax.annotate("", xy=center + vec, xytext=center, arrowprops=dict(arrowstyle="-|>", color=color, linewidth=2, mutation_scale=18))
    ax.text(*(center + vec + np.array(offset)), label, color=color, fontsize=14)

ax.set_xlim(-0.5, 6.6)
ax.set_ylim(-0.4, 4.0)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
