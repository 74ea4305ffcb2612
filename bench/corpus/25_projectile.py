# Projectile trajectory with the launch velocity, its components and the maximum height marked.
import matplotlib.pyplot as plt
import numpy as np

g, v0, angle = 9.81, 20.0, np.radians(50)
t_flight = 2 * v0 * np.sin(angle) / g
t = np.linspace(0, t_flight, 200)
x = v0 * np.cos(angle) * t
y = v0 * np.sin(angle) * t - g * t ** 2 / 2
h = (v0 * np.sin(angle)) ** 2 / (2 * g)
xr = v0 ** 2 * np.sin(2 * angle) / g

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x, y, color="tab:blue", linewidth=2)
arrow = dict(arrowstyle="-|>", linewidth=2, mutation_scale=15)
ax.annotate("", xy=(v0 * np.cos(angle) / 2, v0 * np.sin(angle) / 2), xytext=(0, 0), arrowprops=dict(color="black", **arrow))
ax.annotate("", xy=(v0 * np.cos(angle) / 2, 0), xytext=(0, 0), arrowprops=dict(color="tab:red", **arrow))
ax.annotate("", xy=(0, v0 * np.sin(angle) / 2), xytext=(0, 0), arrowprops=dict(color="tab:green", **arrow))
ax.text(3.0, 8.0, r"$v_0 = 20$ m/s", fontsize=11)
ax.text(3.5, -1.3, r"$v_0\cos\theta$", color="tab:red", fontsize=11)
ax.text(-3.6, 4.0, r"$v_0\sin\theta$", color="tab:green", fontsize=11)
ax.plot([xr / 2, xr / 2], [0, h], "k--", linewidth=1)
ax.text(xr / 2 + 0.5, h / 2, f"H = {h:.1f} m", fontsize=11)
ax.text(xr - 4, -1.3, f"R = {xr:.1f} m", fontsize=11)
ax.axhline(0, color="black", linewidth=1)
ax.set_xlim(-4.5, xr + 2)
ax.set_ylim(-2, h + 2)
ax.set_xlabel("x (m)")
ax.set_ylabel("y (m)")
ax.set_aspect("equal")
plt.show()
