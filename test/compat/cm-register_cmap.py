# A custom colormap registered the pre-3.9 way: matplotlib.cm.register_cmap, then used by name.
import matplotlib.cm as cm
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

cm.register_cmap(name="white_red", cmap=LinearSegmentedColormap.from_list("white_red", ["white", "red"]))
plt.imshow(np.arange(25).reshape(5, 5), cmap="white_red")
plt.colorbar()
