# Pie chart of how 200 surveyed people travel, one slice pulled out.
import matplotlib.pyplot as plt

labels = ["Car", "Bus", "Train", "Bicycle", "Walk"]
counts = [72, 40, 38, 30, 20]
fig, ax = plt.subplots(figsize=(5.5, 5))
ax.pie(counts, labels=labels, autopct="%1.0f%%", startangle=90, explode=[0.08, 0, 0, 0, 0],
       colors=["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3"], wedgeprops=dict(edgecolor="white"))
ax.set_title("How 200 people travel to work")
ax.axis("equal")
plt.show()
