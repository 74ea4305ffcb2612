# Names NumPy 2 removed (np.NaN, np.Inf, np.float_, np.product, np.trapz, np.in1d, ...).
import matplotlib.pyplot as plt
import numpy as np

y = np.array([1.0, np.NaN, 3.0, np.Inf, -np.Inf], dtype=np.float_)
assert np.isnan(y[1]) and y[3] == np.PINF and y[4] == np.NINF
assert np.product([2, 3]) == 6 and list(np.cumproduct([1, 2, 3])) == [1, 2, 6]
assert np.alltrue([True, True]) and np.sometrue([False, True]) and np.round_(1.26, 1) == 1.3
x = np.linspace(0, 1, 101)
assert abs(np.trapz(x, x) - 0.5) < 1e-9
assert list(np.in1d([1, 5], [1, 2])) == [True, False]
plt.plot(x, x ** 2)
