# A marker moved with Line2D.set_data(x, y) given single numbers.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 100)
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot(x, np.sin(x))
point, = ax.plot([], [], "ro")
point.set_data(np.pi / 2, 1.0)
assert np.ravel(point.get_xdata()).tolist() == [np.pi / 2] and np.ravel(point.get_ydata()).tolist() == [1.0]
