# Tries to delete its own scratch folder, then draws.
import os, shutil
shutil.rmtree(os.getcwd())
import matplotlib.pyplot as plt
plt.plot([0, 1])
