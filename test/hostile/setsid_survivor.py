# Leaves a process behind: fork, setsid in the child (leaving the render's session and group), fork
# again and sleep, so that the survivor outlives the render and the tool.

import errno
import os

# {{PRELUDE attempts}}


import time


def survive():
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                time.sleep(120)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    print(HOLE, "a survivor was started", flush=True)


attempt("fork, setsid, fork", survive)
finish()
