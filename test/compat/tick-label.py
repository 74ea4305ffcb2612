# Tick labels styled through Tick.label, removed in matplotlib 3.8.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([1, 2, 3], [3, 1, 2])
for tick in ax.xaxis.get_major_ticks():
    tick.label.set_fontsize(14)
    tick.label.set_color("tab:red")
assert ax.xaxis.get_major_ticks()[0].label1.get_fontsize() == 14
