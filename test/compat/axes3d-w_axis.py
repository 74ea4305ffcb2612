# 3-D panes styled through Axes3D.w_xaxis / w_yaxis / w_zaxis, removed in matplotlib 3.8.
import matplotlib.pyplot as plt

ax = plt.figure().add_subplot(projection="3d")
ax.scatter([0, 1, 2], [0, 1, 0], [1, 2, 3])
ax.w_xaxis.set_pane_color((1.0, 1.0, 1.0, 0.0))
ax.w_yaxis.set_pane_color((1.0, 1.0, 1.0, 0.0))
ax.w_zaxis.line.set_color("gray")
assert ax.w_zaxis is ax.zaxis
