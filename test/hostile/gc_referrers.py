# Goes looking for the sandbox's own objects through the garbage collector.
import gc
print(len(gc.get_objects()))
