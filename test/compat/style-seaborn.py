# Pre-3.6 seaborn style names, through style.use, style.context and a list of styles.
import matplotlib.pyplot as plt

plt.style.use("seaborn-whitegrid")
assert plt.rcParams["axes.grid"]
with plt.style.context(["seaborn-paper", "seaborn-darkgrid"]):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [2, 1, 3])
