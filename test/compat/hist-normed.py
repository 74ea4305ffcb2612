# A density histogram written with hist(normed=True).
import matplotlib.pyplot as plt
import numpy as np

data = np.random.default_rng(0).normal(size=500)
counts, edges, _ = plt.hist(data, bins=20, normed=True, alpha=0.7)
assert abs(float((counts * np.diff(edges)).sum()) - 1) < 1e-9
