# Box plots labelled the pre-3.9 way: boxplot(labels=...), through Axes and through pyplot.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(1)
fig, ax = plt.subplots(figsize=(5, 3))
ax.boxplot([rng.normal(0, 1, 50), rng.normal(1, 2, 50)], labels=["control", "treated"])
ax.set_title("Response by group")
fig.canvas.draw()
assert [t.get_text() for t in ax.get_xticklabels()] == ["control", "treated"]

plt.figure()
plt.boxplot([[1, 2, 3, 4]], labels=["only"])
assert [t.get_text() for t in plt.gca().get_xticklabels()] == ["only"]
