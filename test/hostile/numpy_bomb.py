# Asks numpy for an 80 GB array.
import numpy as np
a = np.ones((100000, 100000))
