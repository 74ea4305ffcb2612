# Polar plot of the rose r = cos(3 theta) and the cardioid r = 1 + cos(theta).
import matplotlib.pyplot as plt
import numpy as np

theta = np.linspace(0, 2 * np.pi, 800)
fig, ax = plt.subplots(figsize=(5, 5), subplot_kw={"projection": "polar"})
ax.plot(theta, np.abs(np.cos(3 * theta)), color="tab:purple", linewidth=2, label=r"$r = |\cos 3\theta|$")
ax.plot(theta, (1 + np.cos(theta)) / 2, color="tab:orange", linewidth=2, label=r"$r = (1+\cos\theta)/2$")
ax.set_rmax(1.1)
ax.set_rticks([0.25, 0.5, 0.75, 1.0])
ax.legend(loc="lower left", bbox_to_anchor=(-0.1, -0.12))
plt.show()
