# Starts a worker process with multiprocessing.
import multiprocessing, time
p = multiprocessing.Process(target=time.sleep, args=(60,))
p.start()
