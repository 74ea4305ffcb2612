# Asks for a 12,000 x 9,000 pixel figure: drawn smaller, then fitted to the original's box.
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(40, 30), dpi=300)
plt.plot([0, 1], [0, 1])
plt.title("large")
