# Histogram of seeded normal samples with the density curve.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(42)
data = rng.normal(170, 8, 500)
fig, ax = plt.subplots(figsize=(6.4, 4.2))
ax.hist(data, bins=20, density=True, color="lightsteelblue", edgecolor="black", label="500 students")
xs = np.linspace(140, 200, 300)
ax.plot(xs, np.exp(-((xs - 170) ** 2) / (2 * 8 ** 2)) / (8 * np.sqrt(2 * np.pi)), "r", linewidth=2, label=r"$N(170, 8^2)$")
ax.axvline(170, color="black", linestyle="--", linewidth=1)
ax.set_xlabel("Height (cm)")
ax.set_ylabel("Density")
ax.legend()
plt.show()
