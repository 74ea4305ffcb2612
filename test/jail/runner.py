"""Stands in for the render worker: forks a child, confines it as a render is, runs one attack from attacks.py.

    python -I runner.py '<json>'   keys: module_dir, scratch, outside, system_reads, attack, mode
                                   (confine | landlock | seccomp | none), port, unix_path, abstract_name, preload

The child prints one line `RESULT {...}`; the parent prints `PARENT {...}` once the child is gone, so a
missing PARENT line means the attack killed it. The parent holds what an attacker wants: the secret in
its environment and memory, and an open descriptor of the secret file.
"""

import errno
import json
import os
import sys

config = json.loads(sys.argv[1])
sys.path[:0] = [config["module_dir"], os.path.dirname(os.path.abspath(__file__))]
if config.get("preload"):
    # As in the worker: the plotting stack is loaded before the fork, so children start hot.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401

import attacks  # noqa: E402
import refigure_jail  # noqa: E402

scratch, outside = config["scratch"], config["outside"]
prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
read_paths = sorted(prefixes | {os.path.realpath(p) for p in prefixes} | {config["module_dir"]} | set(config["system_reads"]))
for root in read_paths:
    if os.path.commonpath([root, outside]) == root or os.path.commonpath([root, scratch]) == root:
        print("SETUP the test's folder %s lies under the read path %s" % (outside, root), flush=True)
        sys.exit(4)

secret = os.environ["REFIGURE_API_KEY"].encode()
ctx = {
    "scratch": scratch,
    "outside": outside,
    "port": config.get("port"),
    "unix_path": config.get("unix_path"),
    "abstract_name": config.get("abstract_name"),
    "secret_address": id(secret) + sys.getsizeof(b"") - 1,  # where CPython keeps a bytes object's data
    "secret_size": len(secret),
    "parent_fd": os.open(os.path.dirname(scratch), os.O_RDONLY | os.O_DIRECTORY),
    "canary_fd": os.open(os.path.join(outside, "canary.txt"), os.O_RDONLY),
    "parent_pidfd": attacks.syscall("pidfd_open", os.getpid(), 0),
}
go_r, go_w = os.pipe()
os.chdir(scratch)
pid = os.fork()
if pid == 0:
    code = 0
    try:
        os.close(go_w)
        os.setsid()
        mode = config["mode"]
        applied = None
        if mode == "confine":
            applied = refigure_jail.confine(scratch, read_paths, os.getpid())
        elif mode == "landlock":
            refigure_jail.no_new_privs()
            applied = {"landlock": refigure_jail.apply_landlock(read_paths, [scratch])}
        elif mode == "seccomp":
            refigure_jail.apply_seccomp(own_pid=os.getpid())
            applied = {"seccomp": True}
        os.read(go_r, 1)  # the parent now holds the secret file open
        report = {"applied": applied}
        try:
            report.update(outcome="done", value=attacks.ATTACKS[config["attack"]](ctx))
        except OSError as error:
            report.update(outcome="blocked", errno=errno.errorcode.get(error.errno or 0, str(error.errno)), message=str(error))
        except Exception as error:
            report.update(outcome="error", type=type(error).__name__, message=str(error))
        print("RESULT " + json.dumps(report, default=repr), flush=True)
    except refigure_jail.JailError as error:
        print("RESULT " + json.dumps({"outcome": "jail-error", "message": str(error)}), flush=True)
        code = 3
    except BaseException as error:
        print("RESULT " + json.dumps({"outcome": "setup-error", "message": "%s: %s" % (type(error).__name__, error)}), flush=True)
        code = 5
    finally:
        os._exit(code)

os.close(go_r)
held = os.open(os.path.join(outside, "secret.txt"), os.O_RDONLY)  # what pidfd_getfd would take
os.write(go_w, b"g")
_pid, status = os.waitpid(pid, 0)
print("PARENT " + json.dumps({"alive": True, "child_pid": pid, "child_status": os.waitstatus_to_exitcode(status)}), flush=True)
