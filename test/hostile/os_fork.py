# Forks.
import os, time
if os.fork() == 0:
    time.sleep(60)
