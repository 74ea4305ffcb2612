# Pendulum period against length with error bars and the theoretical curve.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(3)
length = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
period = 2 * np.pi * np.sqrt(length / 9.81) + rng.normal(0, 0.03, length.size)
err = np.full(length.size, 0.06)

fig, ax = plt.subplots(figsize=(6, 4.2))
ax.errorbar(length, period, yerr=err, xerr=0.02, fmt="o", capsize=4, color="black", label="measured")
ls = np.linspace(0.1, 1.3, 100)
ax.plot(ls, 2 * np.pi * np.sqrt(ls / 9.81), color="tab:blue", label=r"$T = 2\pi\sqrt{L/g}$")
ax.set_xlabel("Length L (m)")
ax.set_ylabel("Period T (s)")
ax.legend(loc="lower right")
ax.grid(True, linestyle=":")
plt.show()
