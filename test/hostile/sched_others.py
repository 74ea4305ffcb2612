# Changes the scheduling of the worker and of the Node process: nice value, CPU affinity, scheduling
# policy. Each write repeats the current value, so it changes nothing, but needs the right to.

import errno
import os

HOLE = "REFIGURE-" + "HOLE"  # printed when an attack gets through: the test fails on it
stopped = []


def _how(error):
    code = getattr(error, "errno", None)
    if code:
        return errno.errorcode.get(code, str(code))
    return type(error).__name__ + (" (tripwire)" if "blocked)" in str(error) else "")


def attempt(what, fn, *args, catch=OSError, **kwargs):
    """One attack. A refusal (the kernel's errno, or the tripwire's PermissionError) is recorded."""
    try:
        fn(*args, **kwargs)
    except catch as error:
        stopped.append("%s: %s" % (what, _how(error)))
        return False
    print(HOLE, what, flush=True)
    return True


def step(what, fn, *args, **kwargs):
    """A preparation that is no attack by itself (an O_PATH open, which Landlock allows): its result, or None."""
    try:
        return fn(*args, **kwargs)
    except OSError as error:
        stopped.append("%s: %s" % (what, _how(error)))
        return None


def finish():
    raise PermissionError("every attempt was stopped: " + "; ".join(stopped))


import os

for name, pid in (("worker", os.getppid()), ("Node", {{NODE_PID}})):
    attempt("setpriority(%s)" % name, lambda pid=pid: os.setpriority(os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, pid)))
    attempt("sched_setaffinity(%s)" % name, lambda pid=pid: os.sched_setaffinity(pid, os.sched_getaffinity(pid)))
    attempt("sched_setscheduler(%s)" % name, lambda pid=pid: os.sched_setscheduler(pid, os.sched_getscheduler(pid), os.sched_param(0)))
finish()
