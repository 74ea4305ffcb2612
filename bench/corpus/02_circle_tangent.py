# Circle with centre O, a radius OP and the tangent line at P with its right-angle mark.
import matplotlib.pyplot as plt
import numpy as np

r = 2.0
theta = np.radians(40)
P = r * np.array([np.cos(theta), np.sin(theta)])
direction = np.array([-np.sin(theta), np.cos(theta)])

fig, ax = plt.subplots(figsize=(5, 5))
t = np.linspace(0, 2 * np.pi, 400)
ax.plot(r * np.cos(t), r * np.sin(t), color="navy", linewidth=2)
ax.plot([0, P[0]], [0, P[1]], color="black", linewidth=1.5)
tangent = np.array([P - 2.2 * direction, P + 2.2 * direction])
ax.plot(tangent[:, 0], tangent[:, 1], color="darkgreen", linewidth=2)

s = 0.25
u = -P / r
corner = np.array([P + s * u, P + s * u + s * direction, P + s * direction])
ax.plot(corner[:, 0], corner[:, 1], color="black", linewidth=1)

ax.plot(*P, "o", color="black", markersize=6)
ax.plot(0, 0, "o", color="black", markersize=6)
ax.text(-0.35, -0.25, "O", fontsize=14)
ax.text(P[0] + 0.15, P[1] + 0.1, "P", fontsize=14)
ax.text(P[0] / 2 + 0.05, P[1] / 2 - 0.3, "r = 2", fontsize=12)
ax.text(*(P + 2.0 * direction + np.array([0.1, 0.0])), "tangent", fontsize=12, color="darkgreen")

ax.set_xlim(-2.8, 3.6)
ax.set_ylim(-2.8, 3.6)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
