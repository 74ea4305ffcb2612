# Changes the scheduling of the worker and of the Node process: nice value, CPU affinity, scheduling
# policy. Each write repeats the current value, so it changes nothing, but needs the right to.

import errno
import os

# {{PRELUDE attempts}}


import os

for name, pid in (("worker", os.getppid()), ("Node", {{NODE_PID}})):
    attempt("setpriority(%s)" % name, lambda pid=pid: os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, pid)))
    attempt("sched_setaffinity(%s)" % name, lambda pid=pid: os.sched_setaffinity(pid, os.sched_getaffinity(pid)))
    attempt("sched_setscheduler(%s)" % name, lambda pid=pid: os.sched_setscheduler(pid, os.sched_getscheduler(pid), os.sched_param(0)))
finish()
