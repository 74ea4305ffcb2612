# A piecewise function with a jump: closed dot where the point belongs, open dot where it does not.
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 4))
x1 = np.linspace(-4, 0, 100)
x2 = np.linspace(0, 2, 100)
x3 = np.linspace(2, 5, 100)
ax.plot(x1, -x1 / 2, "b", linewidth=2)
ax.plot(x2, x2 ** 2, "b", linewidth=2)
ax.plot(x3, 5 - x3, "b", linewidth=2)
ax.plot([2], [4], "o", color="b", markersize=8)
ax.plot([2], [3], "o", markerfacecolor="white", markeredgecolor="b", markersize=8, zorder=3)
ax.axhline(0, color="black", linewidth=0.8)
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xticks(range(-4, 6))
ax.set_yticks(range(0, 6))
ax.grid(True, linestyle=":")
ax.set_title(r"$h(x) = -x/2$ for $x<0$;  $x^2$ for $0 \leq x \leq 2$;  $5-x$ for $x>2$", fontsize=11)
ax.set_xlabel("x")
ax.set_ylabel("h(x)")
plt.show()
