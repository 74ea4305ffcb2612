# Grid switched on the pre-3.5 way: grid(b=True), through Axes and through pyplot.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2], [0, 1, 4])
ax.grid(b=True, linestyle="--", alpha=0.5)
plt.grid(b=True, which="major", axis="y")
assert all(line.get_visible() for line in ax.get_xgridlines())
