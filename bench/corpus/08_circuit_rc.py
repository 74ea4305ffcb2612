# A series circuit: battery, two resistors (zig-zags) and a capacitor, drawn from lines.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6.4, 4.2))
wire = dict(color="black", linewidth=2)


def resistor(x0, x1, y, label):
    n = 6
    xs = np.linspace(x0, x1, 2 * n + 1)
    ys = y + np.array([0] + [0.18 * (-1) ** k for k in range(2 * n - 1)] + [0])
    ax.plot(xs, ys, **wire)
    ax.text((x0 + x1) / 2, y + 0.35, label, ha="center", fontsize=12)


def resistor_vertical(x, y0, y1, label):
    n = 6
    ys = np.linspace(y0, y1, 2 * n + 1)
    xs = x + np.array([0] + [0.18 * (-1) ** k for k in range(2 * n - 1)] + [0])
    ax.plot(xs, ys, **wire)
    ax.text(x + 0.35, (y0 + y1) / 2, label, va="center", fontsize=12)


# Top wire with R1, right side with R2, bottom with the capacitor, left with the battery.
ax.plot([0, 1.5], [3, 3], **wire)
resistor(1.5, 3.0, 3, r"$R_1 = 10\,\Omega$")
ax.plot([3.0, 5], [3, 3], **wire)
ax.plot([5, 5], [3, 2.2], **wire)
resistor_vertical(5, 2.2, 0.8, r"$R_2 = 22\,\Omega$")
ax.plot([5, 5], [0.8, 0], **wire)
ax.plot([5, 2.6], [0, 0], **wire)
ax.plot([2.6, 2.6], [-0.35, 0.35], **wire)
ax.plot([2.4, 2.4], [-0.35, 0.35], **wire)
ax.text(2.5, -0.75, r"$C = 47\,\mu F$", ha="center", fontsize=12)
ax.plot([2.4, 0], [0, 0], **wire)
ax.plot([0, 0], [0, 1.3], **wire)
ax.plot([-0.4, 0.4], [1.3, 1.3], color="black", linewidth=2)
ax.plot([-0.2, 0.2], [1.6, 1.6], color="black", linewidth=4)
ax.plot([0, 0], [1.6, 3], **wire)
ax.text(-0.6, 1.45, r"$\varepsilon = 9\,V$", ha="right", va="center", fontsize=12)
ax.text(0.3, 1.75, "+", fontsize=12)
ax.annotate("", xy=(3.9, 3.35), xytext=(3.3, 3.35), arrowprops=dict(arrowstyle="->", color="tab:red"))
ax.text(3.6, 3.5, "I", color="tab:red", fontsize=12, ha="center")

ax.set_xlim(-2, 6.5)
ax.set_ylim(-1.2, 4)
ax.set_aspect("equal")
ax.axis("off")
plt.show()
