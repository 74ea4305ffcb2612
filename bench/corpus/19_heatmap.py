# Annotated confusion matrix as a heat map.
import matplotlib.pyplot as plt
import numpy as np

classes = ["circle", "triangle", "square", "hexagon"]
m = np.array([[48, 1, 0, 1], [2, 45, 3, 0], [0, 4, 44, 2], [1, 0, 5, 44]])
fig, ax = plt.subplots(figsize=(5.5, 4.8))
im = ax.imshow(m, cmap="Blues")
ax.set_xticks(range(4), classes, rotation=30)
ax.set_yticks(range(4), classes)
for i in range(4):
    for j in range(4):
        ax.text(j, i, m[i, j], ha="center", va="center", color="white" if m[i, j] > 25 else "black")
ax.set_xlabel("Predicted")
ax.set_ylabel("True")
ax.set_title("Shape classifier confusion matrix")
fig.colorbar(im, ax=ax)
plt.show()
