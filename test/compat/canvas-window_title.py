# A window title set through the canvas, removed in matplotlib 3.6.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(4, 3))
fig.canvas.set_window_title("Projectile motion")
ax.plot([0, 1, 2], [0, 1, 0])
