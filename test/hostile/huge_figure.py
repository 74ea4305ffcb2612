# Asks for a 100,000 x 100,000 pixel figure.
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(1000, 1000), dpi=100)
plt.plot([0, 1], [0, 1])
