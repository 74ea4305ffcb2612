# Two functions on axes through the origin, with their intersection points marked.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(-3, 3, 600)
f = x ** 2 - 2
g = 0.5 * x + 1

fig, ax = plt.subplots(figsize=(6.4, 4.8))
ax.plot(x, f, label=r"$f(x) = x^2 - 2$", color="tab:blue", linewidth=2)
ax.plot(x, g, label=r"$g(x) = \frac{1}{2}x + 1$", color="tab:orange", linewidth=2)
roots = np.roots([1, -0.5, -3])
ax.plot(roots, 0.5 * roots + 1, "ko")
for r in roots:
    ax.annotate(f"({r:.2f}, {0.5 * r + 1:.2f})", (r, 0.5 * r + 1), textcoords="offset points", xytext=(8, -14))

for side in ("left", "bottom"):
    ax.spines[side].set_position("zero")
for side in ("right", "top"):
    ax.spines[side].set_visible(False)
ax.set_ylim(-3, 7)
ax.grid(True, alpha=0.3)
ax.legend(loc="upper center")
plt.show()
