# Monthly temperature of three cities, lines with markers.
import matplotlib.pyplot as plt
import numpy as np

months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
t = np.arange(12)
cities = {
    "Oslo": -4 + 10 * np.sin((t - 3) * np.pi / 6) + 6,
    "Madrid": 6 + 10 * np.sin((t - 3) * np.pi / 6) + 10,
    "Singapore": 27 + 0.8 * np.sin(t * np.pi / 6),
}
fig, ax = plt.subplots(figsize=(7, 4))
for (name, temp), marker in zip(cities.items(), ["o", "s", "^"]):
    ax.plot(t, temp, marker=marker, label=name)
ax.set_xticks(t, months)
ax.set_ylabel("Temperature (°C)")
ax.set_title("Average monthly temperature")
ax.grid(True, alpha=0.4)
ax.legend()
plt.show()
