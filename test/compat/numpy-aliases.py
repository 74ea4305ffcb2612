# NumPy's aliases of Python builtins (np.float, np.int, np.bool, ...), removed in NumPy 1.24.
import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 10, 11).astype(np.float)
counts = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], dtype=np.int)
keep = np.ones(11, dtype=np.bool)
names = np.array(["a"] * 11, dtype=np.object)
assert np.complex(1) == 1 and np.str(1) == "1"
plt.bar(x[keep], counts[keep])
plt.title(str(names[0]))
