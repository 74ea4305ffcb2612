# The same figures written against current APIs: no shim may fire, and the builtins behave as usual.
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(1)
fig, axes = plt.subplots(2, 3, figsize=(9, 5))
axes[0, 0].boxplot([rng.normal(0, 1, 50), rng.normal(1, 2, 50)])
axes[0, 0].set_xticks([1, 2], ["control", "treated"])
five = mpl.colormaps["viridis"].resampled(5)
axes[0, 1].scatter([0, 1, 2], [1, 2, 3], c=[0, 1, 2], cmap=five)
sm = mpl.cm.ScalarMappable(cmap="viridis", norm=mpl.colors.Normalize(0, 4))
fig.colorbar(sm, ax=axes[0, 1])
axes[0, 2].grid(visible=True)
axes[0, 2].hist(rng.normal(size=200), bins=10, density=True)
point, = axes[1, 0].plot([], [], "ro")
point.set_data([np.pi / 2], [1.0])
for tick in axes[1, 0].xaxis.get_major_ticks():
    tick.label1.set_fontsize(9)
y = np.sin(np.linspace(0, np.pi, 50))
peak = int(np.argmax(y))
axes[1, 1].plot(y)
axes[1, 1].annotate(f"{y[peak]:.2f}", xy=(peak, y[peak]))
axes[1, 1].text(float(y[peak]), np.nan if False else 0.5, "mid")
assert np.isnan(np.nan) and np.float64(np.inf) == np.inf and np.prod([2, 3]) == 6
assert isinstance(1.5, float) and isinstance(True, int) and type(2.5) == float and float("2") == 2.0
assert np.zeros(2, dtype=float).dtype == np.float64 and np.arange(3, dtype=int).dtype.kind == "i"
assert int("ff", 16) == 255 and complex(1, 2).imag == 2 and float(np.array(2.0)) == 2.0
fig.delaxes(axes[1, 2])
ax3 = fig.add_subplot(2, 3, 6, projection="3d")
ax3.xaxis.set_pane_color((1.0, 1.0, 1.0, 0.0))
