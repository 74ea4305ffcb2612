# Kills its own process group and every process it may signal.
import os, signal
os.killpg(0, signal.SIGKILL)
