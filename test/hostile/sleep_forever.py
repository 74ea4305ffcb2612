# Sleeps far past any timeout.
import time
time.sleep(3600)
