# Ends the process at once, skipping all clean-up.
import os
os._exit(7)
