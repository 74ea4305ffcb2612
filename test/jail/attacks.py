"""Hostile programs a render might run, and benign work that must still succeed, for test/jail/runner.py.

Each function gets the run's context and either raises (the attack was stopped: the runner reports the
error) or returns something printable (the attack went through, or the benign work succeeded).
"""

import ctypes
import os
import platform
import signal
import socket
import sys

ARCH = 0 if platform.machine() == "x86_64" else 1
NR = {  # (x86_64, aarch64); the attacks use raw numbers so no libc wrapper can soften them
    "pidfd_open": (434, 434), "pidfd_getfd": (438, 438), "pidfd_send_signal": (424, 424),
    "tgkill": (234, 131), "process_vm_readv": (310, 270), "io_uring_setup": (425, 425),
    "fsopen": (430, 430), "unshare": (272, 97), "mount": (165, 40), "ptrace": (101, 117),
}
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def syscall(name, *args):
    result = libc.syscall(ctypes.c_long(NR[name][ARCH]), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def outside(ctx, name):
    return os.path.join(ctx["outside"], name)


# --- the file system -----------------------------------------------------------------------------


def write_new_outside(ctx):
    with open(outside(ctx, "planted.txt"), "w") as f:
        f.write("planted")


def overwrite_canary(ctx):
    with open(outside(ctx, "canary.txt"), "r+") as f:
        f.write("OVERWRITTEN")


def truncate_canary(ctx):
    os.truncate(outside(ctx, "canary.txt"), 0)


def read_secret(ctx):
    with open(outside(ctx, "secret.txt")) as f:
        return f.read()


def symlink_outside(ctx):
    os.symlink(os.path.join(ctx["scratch"], "x"), outside(ctx, "planted-link"))


def read_through_symlink(ctx):
    # Making the link is allowed (it is only a name in scratch); following it must not be.
    os.symlink(outside(ctx, "secret.txt"), "out.png")
    with open("out.png") as f:
        return f.read()


def hardlink_secret_in(ctx):
    os.link(outside(ctx, "secret.txt"), "stolen.txt")
    with open("stolen.txt") as f:
        return f.read()


def hardlink_out(ctx):
    with open("mine.txt", "w") as f:
        f.write("planted")
    os.link("mine.txt", outside(ctx, "planted-hardlink"))


def rename_out(ctx):
    with open("mine.txt", "w") as f:
        f.write("planted")
    os.rename("mine.txt", outside(ctx, "planted-rename"))


def rename_canary_in(ctx):
    os.rename(outside(ctx, "canary.txt"), "taken.txt")


def create_with_parent_dir_fd(ctx):
    # A descriptor of scratch's parent, opened before confinement: paths through it are still checked.
    fd = os.open("escape.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=ctx["parent_fd"])
    os.write(fd, b"planted")


def fchmod_read_only_fd(ctx):
    # A descriptor opened read-only before confinement: Landlock does not cover modes.
    os.fchmod(ctx["canary_fd"], 0o4777)


def chmod_canary(ctx):
    os.chmod(outside(ctx, "canary.txt"), 0o4777)


# --- the network and sockets ----------------------------------------------------------------------


def socket_inet(ctx):
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    return "socket made"


def connect_tcp(ctx):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("127.0.0.1", ctx["port"]))
    s.sendall(b"LEAK")
    return "connected"


def connect_unix(ctx):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ctx["unix_path"])
    s.sendall(b"LEAK")
    return "connected"


def connect_abstract(ctx):
    # No path to check: only Landlock's scoping (ABI 6) or the socket ban stands in the way.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Node binds abstract names padded with NULs to the whole of sun_path (108 bytes), so the same here.
    s.connect(b"\0" + ctx["abstract_name"].encode().ljust(107, b"\0"))
    s.sendall(b"LEAK")
    return "connected"


# --- processes --------------------------------------------------------------------------------------


def fork(ctx):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return "forked"


def run_subprocess(ctx):
    import subprocess

    return subprocess.run(["/bin/sh", "-c", "echo SPAWNED-A-SHELL"], capture_output=True, text=True).stdout


def execv(ctx):
    os.execv("/bin/echo", ["echo", "EXECUTED-A-PROGRAM"])


def kill_parent(ctx):
    os.kill(os.getppid(), signal.SIGKILL)


def killpg_parent(ctx):
    os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)


def tgkill_parent(ctx):
    syscall("tgkill", os.getppid(), os.getppid(), signal.SIGKILL)


def pidfd_open_parent(ctx):
    return "pidfd %d" % syscall("pidfd_open", os.getppid(), 0)


def pidfd_getfd_parent(ctx):
    # With a pidfd of the worker in hand (inherited, the strongest case): take its open files.
    import stat

    found = []
    for target in range(3, 40):
        try:
            fd = syscall("pidfd_getfd", ctx["parent_pidfd"], target, 0)
        except OSError as error:
            if error.errno == 1:  # EPERM: refused as such, not merely a closed descriptor
                raise
            continue
        if stat.S_ISREG(os.fstat(fd).st_mode):
            found.append(os.pread(fd, 200, 0).decode(errors="replace"))
    return found


def pidfd_send_signal_parent(ctx):
    syscall("pidfd_send_signal", ctx["parent_pidfd"], signal.SIGKILL, None, 0)


def ptrace_parent(ctx):
    libc.ptrace.restype = ctypes.c_long
    # PTRACE_SEIZE attaches without stopping the parent, so a successful attack cannot hang the test.
    if libc.ptrace(ctypes.c_long(0x4206), ctypes.c_long(os.getppid()), None, None) == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return "attached"


def process_vm_readv_parent(ctx):
    # Fork copied the parent's layout, so the parent's copy of the secret sits at the same address.
    address, size = ctx["secret_address"], ctx["secret_size"]
    buffer = ctypes.create_string_buffer(size)
    local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), size)
    remote = (ctypes.c_void_p * 2)(address, size)
    syscall("process_vm_readv", os.getppid(), local, 1, remote, 1, 0)
    return buffer.raw.decode(errors="replace")


def proc_environ_parent(ctx):
    with open("/proc/%d/environ" % os.getppid(), "rb") as f:
        return f.read().decode(errors="replace")


def unshare_user(ctx):
    syscall("unshare", 0x10000000)  # CLONE_NEWUSER
    return "new user namespace"


def mount_tmpfs(ctx):
    syscall("mount", ctypes.c_char_p(b"none"), ctypes.c_char_p(ctx["scratch"].encode()), ctypes.c_char_p(b"tmpfs"), 0, None)
    return "mounted"


def fsopen_tmpfs(ctx):
    return "fs context %d" % syscall("fsopen", ctypes.c_char_p(b"tmpfs"), 0)


def io_uring(ctx):
    params = ctypes.create_string_buffer(120)
    return "ring %d" % syscall("io_uring_setup", 8, params)


def _machine_code(code):
    import mmap

    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    return ctypes.CFUNCTYPE(ctypes.c_long)(address), page


def x32_syscall(ctx):
    # getpid through the x32 table: another set of numbers the filter must not be fooled by.
    func, _page = _machine_code(b"\xb8\x27\x00\x00\x40\x0f\x05\xc3")  # mov eax, 0x40000027; syscall; ret
    return "x32 getpid answered %d" % func()


# --- benign work ---------------------------------------------------------------------------------------


def benign_threads(ctx):
    import threading

    import numpy

    results = []
    workers = [threading.Thread(target=lambda: results.append(float(numpy.ones((200, 200)).dot(numpy.ones(200)).sum()))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(results)


def benign_files(ctx):
    import json
    import tempfile

    os.mkdir("sub")
    with open("sub/data.json", "w") as f:
        json.dump({"x": [1, 2, 3]}, f)
    os.rename("sub/data.json", "data.json")
    os.symlink("data.json", "alias.json")
    with open("alias.json") as f:
        data = json.load(f)
    with tempfile.NamedTemporaryFile(dir=".", delete=True) as tmp:
        tmp.write(b"x" * 1000)
    os.truncate("data.json", os.path.getsize("data.json"))
    os.remove("alias.json")
    os.rmdir("sub")
    return {"data": data, "listing": sorted(os.listdir("."))}


def benign_plot(ctx):
    import fractions  # noqa: F401  (a module first imported after confinement)

    import matplotlib.pyplot as plt
    import numpy

    fig, ax = plt.subplots(figsize=(4, 3))
    x = numpy.linspace(0, 6, 200)
    ax.plot(x, numpy.sin(x), label=r"$\sin(x)$")
    ax.set_title("Confined figure")
    ax.legend()
    fig.savefig("figure.png", dpi=80)
    return os.path.getsize("figure.png")


def benign_signal_self(ctx):
    received = []
    signal.signal(signal.SIGUSR1, lambda *_: received.append("kill"))
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, lambda *_: received.append("raise"))
    signal.raise_signal(signal.SIGUSR1)
    return received


def benign_flags(ctx):
    libc.prctl.restype = ctypes.c_int
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.capget(header, data)
    return {
        "no_new_privs": libc.prctl(39, 0, 0, 0, 0),  # PR_GET_NO_NEW_PRIVS
        "seccomp_mode": libc.prctl(21, 0, 0, 0, 0),  # PR_GET_SECCOMP: 2 is a filter
        "effective_caps": data[0] | data[3],
        "permitted_caps": data[1] | data[4],
    }


ATTACKS = {name: value for name, value in dict(globals()).items() if callable(value) and not name.startswith("_")
           and value.__module__ == __name__ and name not in ("syscall", "outside")}
