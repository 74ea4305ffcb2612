# Grouped bar chart: mean test scores of three classes over four subjects, with value labels.
import matplotlib.pyplot as plt
import numpy as np

subjects = ["Algebra", "Geometry", "Physics", "Chemistry"]
scores = {"Class A": [78, 85, 72, 69], "Class B": [82, 79, 88, 74], "Class C": [70, 91, 80, 83]}

x = np.arange(len(subjects))
width = 0.26
fig, ax = plt.subplots(figsize=(7, 4.2))
for i, (name, values) in enumerate(scores.items()):
    bars = ax.bar(x + (i - 1) * width, values, width, label=name)
    ax.bar_label(bars, padding=2, fontsize=8)
ax.set_xticks(x, subjects)
ax.set_ylabel("Mean score")
ax.set_ylim(0, 100)
ax.set_title("Mean test score by subject")
ax.legend(ncol=3, loc="upper left")
plt.show()
