# A time series drawn with plot_date, removed in matplotlib 3.11.
import datetime

import matplotlib.pyplot as plt

days = [datetime.date(2024, 1, d) for d in range(1, 8)]
plt.plot_date(days, [3, 4, 2, 5, 6, 5, 7], "-o")
fig, ax = plt.subplots()
ax.plot_date(days, [1, 2, 3, 2, 1, 2, 3], fmt="--")
ax.set_title("Daily values")
