# Box plots of seeded reaction times under four conditions, with the individual points jittered.
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(11)
conditions = ["Control", "Caffeine", "Sleep-deprived", "Both"]
data = [rng.normal(mu, sd, 30) for mu, sd in [(250, 25), (232, 22), (290, 35), (268, 30)]]
fig, ax = plt.subplots(figsize=(6.4, 4.2))
ax.boxplot(data, patch_artist=True, boxprops=dict(facecolor="#cfe2f3"), medianprops=dict(color="darkred"))
# Tick labels set apart: boxplot(labels=) became tick_labels in matplotlib 3.9.
ax.set_xticks(range(1, len(conditions) + 1), conditions)
for i, d in enumerate(data, start=1):
    ax.plot(i + rng.uniform(-0.12, 0.12, d.size), d, ".", color="gray", alpha=0.6)
ax.set_ylabel("Reaction time (ms)")
ax.set_title("Reaction time by condition")
plt.show()
