# One-element arrays used as numbers: float()/int() of x[idx], and text placed at them.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 200)
y = np.sin(x)
peak = np.where(y == y.max())[0]
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(x, y)
ax.annotate(f"max {float(y[peak]):.2f}", xy=(x[peak], y[peak]), xytext=(x[peak] + 0.5, y[peak] - 0.5),
            arrowprops=dict(arrowstyle="->"))
ax.text(x[peak], y[peak] + 0.05, "peak", ha="center")
steps = int(np.array([4]))
assert steps == 4 and isinstance(steps, int) and isinstance(float(y[peak]), float)
ax.set_xticks(np.linspace(0, 2 * np.pi, steps + 1))
