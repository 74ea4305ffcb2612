"""Kernel-enforced confinement for a render child on Linux: no_new_privs, Landlock, seccomp.

Called in the forked render child right before the model's code runs. Everything here is
enforced by the kernel and survives anything the code does afterwards in Python or through
ctypes; the audit hook elsewhere is only a tripwire. Standard library and ctypes only.

    python3 refigure_jail.py --bpf [--allow-exec] [--allow-fork] [--own-pid N] > filter.bpf
    python3 refigure_jail.py --probe        # {"abi": 7, "seccomp": true, "arch": "x86_64"}
"""

import ctypes
import errno
import json
import os
import platform
import stat
import struct
import sys


class JailError(RuntimeError):
    """A confinement that was asked for could not be applied: the render must not go ahead."""


# ---------------------------------------------------------------------------------------------
# Architecture and system call numbers
# ---------------------------------------------------------------------------------------------

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

# Calls denied outright. Numbers from 424 up are shared by every architecture. Calls an
# architecture lacks (fork, mknod, iopl on aarch64) are simply absent from its column.
_DENIED = {
    # name: (x86_64, aarch64)
    # Reaching into other processes: the worker's memory, descriptors (its protocol socket).
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_open": (434, 434), "pidfd_getfd": (438, 438), "pidfd_send_signal": (424, 424),
    "kcmp": (312, 272), "process_madvise": (440, 440), "process_mrelease": (448, 448),
    # Changing the view of the file system, or leaving it.
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "open_tree": (428, 428), "move_mount": (429, 429), "fsopen": (430, 430),
    "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442), "open_tree_attr": (467, 467),
    "unshare": (272, 97), "setns": (308, 268),
    # Large kernel attack surface a figure never needs.
    "bpf": (321, 280), "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "name_to_handle_at": (303, 264), "open_by_handle_at": (304, 265),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "iopl": (172, None), "ioperm": (173, None), "swapon": (167, 224), "swapoff": (168, 225),
    "reboot": (169, 142), "settimeofday": (164, 170), "clock_settime": (227, 112),
    "clock_adjtime": (305, 266), "adjtimex": (159, 171), "acct": (163, 89),
    "quotactl": (179, 60), "quotactl_fd": (443, 443), "personality": (135, 92),
    "uselib": (134, None), "mknod": (133, None), "mknodat": (259, 33),
    # No network and no local sockets of any family: nothing to talk to, nothing to listen on.
    "socket": (41, 198), "socketpair": (53, 199),
    # New processes. Threads go through clone with CLONE_THREAD, checked below.
    "fork": (57, None), "vfork": (58, None),
    # Landlock does not cover modes, owners, extended attributes or times, and a root render can
    # change them on any file it may read (a setuid bit on a system binary): none of them here.
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452),
    "chown": (92, None), "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54),
    "setxattr": (188, 5), "lsetxattr": (189, 6), "fsetxattr": (190, 7), "setxattrat": (463, 463),
    "removexattr": (197, 14), "lremovexattr": (198, 15), "fremovexattr": (199, 16),
    "removexattrat": (466, 466), "file_setattr": (469, 469),
    "utime": (132, None), "utimes": (235, None), "futimesat": (261, None), "utimensat": (280, 88),
    # Kernel objects that live outside scratch and outlive the render: System V shared memory (which
    # the address-space limit does not count), message queues and semaphores, POSIX message queues.
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183), "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    # Memory that the address-space limit does not count: an anonymous file grows with write().
    "memfd_create": (319, 279),
    # Watching folders the render may not read tells it the names of files used there.
    "inotify_add_watch": (254, 27), "fanotify_init": (300, 262),
    # Priorities of other processes: inside bubblewrap the worker has no capabilities either, so
    # nothing else stops a render from slowing it (and every later render) for good.
    "setpriority": (141, 140), "ioprio_set": (251, 30),
}
# Calls whose first argument is a target process: allowed on the render itself (0 or its own pid)
# only. prlimit64 checks only that the user ids match, so a root render could otherwise set the
# worker's (or the editor's) CPU or file limits.
_TARGETED = {"prlimit64": (302, 261), "sched_setaffinity": (203, 122), "sched_setscheduler": (144, 119),
             "sched_setparam": (142, 118), "sched_setattr": (314, 274)}
_EXEC = {"execve": (59, 221), "execveat": (322, 281)}
# Signals: the first argument is the target process (or thread group).
_SIGNALS = {"kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131),
            "rt_sigqueueinfo": (129, 138), "rt_tgsigqueueinfo": (297, 240)}
_CLONE, _CLONE3, _IOCTL = (56, 220), (435, 435), (16, 29)
_SECCOMP, _CAPSET = (317, 277), (126, 91)
_LANDLOCK_CREATE, _LANDLOCK_ADD, _LANDLOCK_RESTRICT = 444, 445, 446

CLONE_THREAD = 0x00010000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
CLONE_NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
# Typing into a terminal, setting immutable/append-only flags on a file opened read-only, and naming
# another process as the owner of a socket (which the kernel then signals on the render's behalf).
_DENIED_IOCTLS = (0x5412, 0x541C, 0x40086602, 0x401C5820, 0x8901, 0x8902)  # TIOCSTI, TIOCLINUX, FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR, FIOSETOWN, SIOCSPGRP
# fcntl F_SETOWN / F_SETOWN_EX: the kernel sends SIGIO (or any signal F_SETSIG picks) to the owner, a
# kill that no kill call makes. Landlock's signal scope (ABI 6) stops it too; older kernels have only this.
_FCNTL = (72, 25)
_DENIED_FCNTLS = (8, 15)


def machine():
    """"x86_64" or "aarch64" when this process can be confined here, else None."""
    if not sys.platform.startswith("linux") or struct.calcsize("P") != 8:
        return None  # a 32-bit interpreter makes different system calls than the table says
    name = platform.machine().lower()
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)
    return name if name in AUDIT_ARCH else None


_libc = None


def _syscall(number, *args):
    """Raw system call; raises OSError with the kernel's errno."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
    result = _libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def _column(arch):
    return 0 if arch == "x86_64" else 1


def _prctl(option, *args):
    arch = machine()
    if arch is None:
        raise JailError("kernel confinement needs Linux on x86_64 or aarch64 (this is %s %s)" % (sys.platform, platform.machine()))
    _syscall((157, 167)[_column(arch)], option, *(list(args) + [0] * (4 - len(args))))


# ---------------------------------------------------------------------------------------------
# Process flags
# ---------------------------------------------------------------------------------------------


def no_new_privs():
    """Nothing run later gains privileges (setuid bits, file capabilities); Landlock and seccomp require it."""
    _prctl(38, 1)  # PR_SET_NO_NEW_PRIVS


def set_dumpable(dumpable):
    """A non-dumpable process has root-owned /proc entries and refuses ptrace from its own uid."""
    _prctl(4, 1 if dumpable else 0)  # PR_SET_DUMPABLE


def drop_capabilities():
    """Empty the effective, permitted and inheritable sets: a render running as root keeps its uid, not its powers."""
    header = struct.pack("=Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = ctypes.create_string_buffer(24)  # two zeroed {effective, permitted, inheritable} words
    _syscall(_CAPSET[_column(machine())], ctypes.c_char_p(header), data)


# ---------------------------------------------------------------------------------------------
# Landlock
# ---------------------------------------------------------------------------------------------

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
# Rights that make sense on a file; a rule on a file carrying any other right is refused (EINVAL).
FS_FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


def landlock_abi():
    """The kernel's Landlock ABI version; 0 when Landlock is missing, disabled or not supported here."""
    if machine() is None:
        return 0
    try:
        return _syscall(_LANDLOCK_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    except OSError:
        return 0


def _fs_rights(abi):
    """Every file-system right this ABI knows: handling all of them is what makes the default a denial."""
    rights = (1 << 13) - 1  # v1: EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= FS_REFER  # without it, links and renames between folders are refused outright
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def apply_landlock(read_paths, write_paths):
    """Restrict this thread and its future children: read and execute beneath read_paths, anything
    beneath write_paths, nothing elsewhere; no TCP (ABI 4+); no signals or abstract sockets across
    the boundary (ABI 6+). Paths that do not exist are skipped. Returns the ABI used.

    Landlock confines only the calling thread (and what it starts afterwards): call it while the
    process has a single thread, as a freshly forked child does.
    """
    abi = landlock_abi()
    if abi < 1:
        raise JailError("Landlock is not available in this kernel (needs Linux 5.13+ with Landlock enabled)")
    handled = _fs_rights(abi)
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    # Older kernels refuse fields they do not know, so the attribute grows with the ABI.
    attr = struct.pack("=QQQ", handled, net, scoped)[: 24 if abi >= 6 else 16 if abi >= 4 else 8]
    try:
        ruleset = _syscall(_LANDLOCK_CREATE, ctypes.c_char_p(attr), len(attr), 0)
    except OSError as error:
        raise JailError("Landlock refused the ruleset: %s" % error.strerror) from error
    try:
        read = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE
        for paths, rights in ((read_paths, read), (write_paths, handled)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                try:
                    is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
                    rule = _PathBeneath(rights if is_dir else rights & FS_FILE_RIGHTS, fd)
                    _syscall(_LANDLOCK_ADD, ruleset, 1, ctypes.byref(rule), 0)  # LANDLOCK_RULE_PATH_BENEATH
                except OSError as error:
                    raise JailError("Landlock refused the rule for %s: %s" % (path, error.strerror)) from error
                finally:
                    os.close(fd)
        try:
            _syscall(_LANDLOCK_RESTRICT, ruleset, 0)
        except OSError as error:
            raise JailError("Landlock could not restrict this process: %s" % error.strerror) from error
    finally:
        os.close(ruleset)
    return abi


# ---------------------------------------------------------------------------------------------
# seccomp
# ---------------------------------------------------------------------------------------------
#
# Denied calls fail with EPERM rather than killing the process: the code sees an ordinary
# PermissionError ("Operation not permitted") with a traceback naming the line, which the user
# can read and the model can correct, instead of a render that dies with SIGSYS and no word.
# Only an architecture mismatch kills: no Python code makes one by accident, and it is the
# classic way around a filter written for one system call table.

RET_KILL_PROCESS, RET_ALLOW, RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
_LD_ABS_W, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JSET|K, BPF_RET|K
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data


def _arg(index):
    """Offset of the low 32 bits of argument `index` (both architectures are little-endian)."""
    return 16 + 8 * index


def _op(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _when_arg(nr, arg, values, match, otherwise):
    """For call `nr`: return `match` if the low word of `arg` is one of `values`, else `otherwise`."""
    n = len(values)
    ops = [_op(_JEQ, nr, 0, n + 3), _op(_LD_ABS_W, _arg(arg))]
    ops += [_op(_JEQ, value, n - i, 0) for i, value in enumerate(values)]
    return ops + [_op(_RET, otherwise), _op(_RET, match)]


def seccomp_filter(arch=None, allow_exec=False, own_pid=None, allow_fork=False):
    """The classic BPF program (an array of struct sock_filter) that denies what a render never needs.

    own_pid: signals, resource limits and scheduling may target only this process (or pid 0: itself,
    or its own group for signals); None allows only 0.
    allow_fork: a process that starts and signals children of its own (a worker, not a render).
    """
    arch = arch or machine()
    if arch not in AUDIT_ARCH:
        raise JailError("no system call table for architecture %r" % (arch,))
    col = _column(arch)
    deny = RET_ERRNO | errno.EPERM
    ops = [_op(_LD_ABS_W, _ARCH), _op(_JEQ, AUDIT_ARCH[arch], 1, 0), _op(_RET, RET_KILL_PROCESS), _op(_LD_ABS_W, _NR)]
    if arch == "x86_64":
        ops += [_op(_JSET, X32_SYSCALL_BIT, 0, 1), _op(_RET, RET_KILL_PROCESS)]
    denied = dict(_DENIED)
    if not allow_exec:
        denied.update(_EXEC)
    if allow_fork:
        denied.pop("fork"), denied.pop("vfork")
    for numbers in denied.values():
        if numbers[col] is not None:
            ops += [_op(_JEQ, numbers[col], 0, 1), _op(_RET, deny)]
    # glibc tries clone3 first and falls back to clone on ENOSYS; clone's flags are a plain
    # argument the filter can read, clone3's sit behind a pointer it cannot.
    ops += [_op(_JEQ, _CLONE3[col], 0, 1), _op(_RET, RET_ERRNO | errno.ENOSYS)]
    if not allow_fork:
        # Threads (CLONE_THREAD) yes; new processes and new namespaces no.
        ops += [_op(_JEQ, _CLONE[col], 0, 5), _op(_LD_ABS_W, _arg(0)),
                _op(_JSET, CLONE_NEW_NAMESPACES, 2, 0), _op(_JSET, CLONE_THREAD, 0, 1),
                _op(_RET, RET_ALLOW), _op(_RET, deny)]
        # The kernel reads the pid as a 32-bit int, so the low word is the whole target.
        targets = [0] if own_pid is None else [0, own_pid]
        for numbers in list(_SIGNALS.values()) + list(_TARGETED.values()):
            ops += _when_arg(numbers[col], 0, targets, RET_ALLOW, deny)
    else:
        ops += [_op(_JEQ, _CLONE[col], 0, 4), _op(_LD_ABS_W, _arg(0)),
                _op(_JSET, CLONE_NEW_NAMESPACES, 0, 1), _op(_RET, deny), _op(_RET, RET_ALLOW)]
    ops += _when_arg(_FCNTL[col], 1, _DENIED_FCNTLS, deny, RET_ALLOW)
    ops += _when_arg(_IOCTL[col], 1, _DENIED_IOCTLS, deny, RET_ALLOW)
    ops.append(_op(_RET, RET_ALLOW))
    return b"".join(ops)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def seccomp_available():
    """Whether the kernel takes filters that answer with an errno (SECCOMP_GET_ACTION_AVAIL)."""
    arch = machine()
    if arch is None:
        return False
    try:
        _syscall(_SECCOMP[_column(arch)], 2, 0, ctypes.byref(ctypes.c_uint32(RET_ERRNO)))
        return True
    except OSError:
        return False


def apply_seccomp(allow_exec=False, own_pid=None, allow_fork=False):
    """Load seccomp_filter(...) on every thread of this process, after no_new_privs (which it needs)."""
    program = seccomp_filter(None, allow_exec=allow_exec, own_pid=own_pid, allow_fork=allow_fork)
    no_new_privs()
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    try:
        # SECCOMP_SET_MODE_FILTER with SECCOMP_FILTER_FLAG_TSYNC: threads already running are covered too.
        _syscall(_SECCOMP[_column(machine())], 1, 1, ctypes.byref(prog))
    except OSError as error:
        if error.errno != errno.ENOSYS:
            raise JailError("the kernel refused the seccomp filter: %s" % error.strerror) from error
        try:
            _prctl(22, 2, ctypes.addressof(prog))  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        except OSError as error2:
            raise JailError("seccomp filters are not available: %s" % error2.strerror) from error2


# ---------------------------------------------------------------------------------------------
# Everything, in order
# ---------------------------------------------------------------------------------------------

# The devices Python and its libraries open; /dev itself stays hidden.
_DEVICE_READS = ("/dev/urandom", "/dev/random", "/dev/zero")
_DEVICE_WRITES = ("/dev/null",)


def private_tmpfs(scratch, size_bytes, max_files):
    """Mounts a size-capped tmpfs over `scratch`, seen by this process only: a hard disk cap without
    bubblewrap. Needs unprivileged user namespaces; returns False (and changes nothing) without them.

    Files the code unlinks while holding them open still count against the size, which a folder walk
    from outside cannot see.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
        return False
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", "%d %d 1" % (uid, uid)), ("gid_map", "%d %d 1" % (gid, gid))):
            with open("/proc/self/" + name, "w") as f:
                f.write(text)
        libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        # Nothing mounted here propagates back to the host.
        if libc.mount(None, b"/", None, 0x4000 | 0x40000, None) != 0:  # MS_REC | MS_PRIVATE
            raise OSError(ctypes.get_errno(), "making mounts private")
        options = ("size=%d,nr_inodes=%d,mode=0700" % (size_bytes, max_files)).encode()
        if libc.mount(b"tmpfs", os.fsencode(scratch), b"tmpfs", 0x2 | 0x4 | 0x8, options) != 0:  # MS_NOSUID | MS_NODEV | MS_NOEXEC
            raise OSError(ctypes.get_errno(), "mounting the scratch tmpfs")
    except OSError as error:
        # Half-made namespaces cannot be undone: the render must not go on as if the cap held.
        raise JailError("could not mount a private scratch: %s" % error) from None
    os.chdir(scratch)
    return True


def confine(scratch, read_paths, own_pid=None, use_landlock=True, tmpfs=None):
    """Confine this process before running untrusted code: writes only beneath `scratch`, reads only
    beneath `scratch` and `read_paths`, no network, sockets, new processes, exec, signals to others,
    or reaching into other processes. Returns what was applied; raises JailError when any of it
    cannot be, and the caller must then not run the code.
    """
    if machine() is None:
        raise JailError("kernel confinement needs Linux on x86_64 or aarch64 (this is %s %s)" % (sys.platform, platform.machine()))
    if not os.path.isdir(scratch):
        raise JailError("the scratch folder %s does not exist" % scratch)
    own_pid = os.getpid() if own_pid is None else own_pid
    try:
        threads = len(os.listdir("/proc/self/task"))
    except OSError:
        threads = 1
    if use_landlock and threads > 1:
        raise JailError("Landlock confines one thread and this process has %d: confine before starting threads" % threads)
    disk = "tmpfs" if tmpfs and private_tmpfs(scratch, tmpfs[0], tmpfs[1]) else "polled"
    try:
        no_new_privs()
    except OSError as error:
        raise JailError("could not set no_new_privs: %s" % error.strerror) from error
    abi = apply_landlock(list(read_paths) + list(_DEVICE_READS), [scratch] + list(_DEVICE_WRITES)) if use_landlock else 0
    try:
        drop_capabilities()
    except OSError as error:
        raise JailError("could not drop capabilities: %s" % error.strerror) from error
    apply_seccomp(own_pid=own_pid)
    return {"landlock": abi, "seccomp": True, "no_new_privs": True, "no_capabilities": True, "disk": disk}


def main(argv):
    if "--probe" in argv:
        print(json.dumps({"abi": landlock_abi(), "seccomp": seccomp_available(), "arch": machine()}))
        return 0
    if "--bpf" in argv:
        own_pid = int(argv[argv.index("--own-pid") + 1]) if "--own-pid" in argv else None
        program = seccomp_filter(None, allow_exec="--allow-exec" in argv, own_pid=own_pid, allow_fork="--allow-fork" in argv)
        sys.stdout.buffer.write(program)
        sys.stdout.buffer.flush()
        return 0
    sys.stderr.write("usage: refigure_jail.py --probe | --bpf [--allow-exec] [--allow-fork] [--own-pid N]\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
