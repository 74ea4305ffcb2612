# Unit circle with an angle t, the point (cos t, sin t) and its projections.
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Arc

t = np.radians(55)
fig, ax = plt.subplots(figsize=(5, 5))
s = np.linspace(0, 2 * np.pi, 300)
ax.plot(np.cos(s), np.sin(s), color="black")
ax.annotate("", xy=(1.35, 0), xytext=(-1.35, 0), arrowprops=dict(arrowstyle="->"))
ax.annotate("", xy=(0, 1.35), xytext=(0, -1.35), arrowprops=dict(arrowstyle="->"))
px, py = np.cos(t), np.sin(t)
ax.plot([0, px], [0, py], color="tab:blue", linewidth=2)
ax.plot([px, px], [0, py], color="tab:red", linestyle="--")
ax.plot([0, px], [py, py], color="tab:green", linestyle="--")
ax.plot(px, py, "o", color="tab:blue")
ax.add_patch(Arc((0, 0), 0.5, 0.5, theta1=0, theta2=55))
ax.text(0.28, 0.1, "t", fontsize=13)
ax.text(px + 0.05, py + 0.05, r"$(\cos t, \sin t)$", fontsize=12)
ax.text(px - 0.05, -0.15, r"$\cos t$", fontsize=11, color="tab:red", ha="center")
ax.text(-0.3, py, r"$\sin t$", fontsize=11, color="tab:green", va="center")
ax.text(1.37, -0.12, "x")
ax.text(0.05, 1.35, "y")
ax.set_xlim(-1.5, 1.5)
ax.set_ylim(-1.5, 1.5)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
