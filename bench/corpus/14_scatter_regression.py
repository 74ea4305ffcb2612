# Scatter of a seeded noisy linear relation with its least-squares line and equation.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(7)
x = rng.uniform(0, 10, 60)
y = 2.1 * x + 3 + rng.normal(0, 2.5, x.size)
slope, intercept = np.polyfit(x, y, 1)

fig, ax = plt.subplots(figsize=(6, 4.5))
ax.scatter(x, y, s=25, color="tab:green", alpha=0.8, edgecolor="black", linewidth=0.5, label="measurements")
xs = np.linspace(0, 10, 2)
ax.plot(xs, slope * xs + intercept, "r--", linewidth=2, label=f"y = {slope:.2f}x + {intercept:.2f}")
ax.set_xlabel("Applied force F (N)")
ax.set_ylabel("Extension (mm)")
ax.legend()
ax.set_title("Hooke's law experiment")
plt.show()
