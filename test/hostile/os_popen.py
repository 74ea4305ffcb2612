# Reads a command's output through a pipe.
import os
print(os.popen("id").read())
