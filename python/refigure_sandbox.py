"""The render child's confinement, applied after fork and before the model's code runs.

In order: the worker's descriptors closed, resource limits, the kernel layers (refigure_jail:
no_new_privs, Landlock, seccomp), then the audit hook. The kernel layers are the boundary; the
audit hook is a tripwire that names what the code tried, and nothing relies on it.
"""

import fcntl
import os
import signal
import stat
import sys


def log(message):
    sys.stderr.write("refigure-worker: %s\n" % message)
    sys.stderr.flush()


def close_inherited_fds(keep):
    """Closes every descriptor the worker holds except `keep` and the read-only regular files.

    Pipes, sockets (the protocol channel), directories and anything opened for writing go. Regular files
    opened read-only stay: matplotlib's warm font objects read their font files through them, and closing
    those under FreeType breaks glyph loading ("FT_Load_Glyph … invalid stream operation").
    """
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd in keep:
            continue
        try:
            info = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if fd > 2 and stat.S_ISREG(info.st_mode) and flags & os.O_ACCMODE == os.O_RDONLY:
            continue
        try:
            os.close(fd)
        except OSError:
            pass


def apply_limits(limits):
    try:
        import resource
    except ImportError:
        return

    def set_limit(name, soft, hard=None):
        which = getattr(resource, name, None)
        if which is None or soft is None:
            return
        hard = soft if hard is None else hard
        try:
            current = resource.getrlimit(which)
            if current[1] != resource.RLIM_INFINITY:
                hard = min(hard, current[1])
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, hard))
        except (ValueError, OSError) as error:
            log("could not set %s: %s" % (name, error))

    mib = 1024 * 1024
    if limits.get("memory_mb"):
        set_limit("RLIMIT_AS", int(limits["memory_mb"]) * mib)
    if limits.get("cpu_s"):
        cpu = int(limits["cpu_s"])
        set_limit("RLIMIT_CPU", cpu, cpu + 2)
    if limits.get("fsize_mb"):
        set_limit("RLIMIT_FSIZE", int(limits["fsize_mb"]) * mib)
    if limits.get("files"):
        set_limit("RLIMIT_NOFILE", int(limits["files"]))
    if limits.get("procs"):
        set_limit("RLIMIT_NPROC", int(limits["procs"]))
    # No core dumps: a crash must not write the child's memory anywhere.
    set_limit("RLIMIT_CORE", 0)


def die_with_parent():
    """Linux: the kernel kills this child when the worker dies, even if the worker is SIGKILLed."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception as error:
        log("could not set the parent-death signal: %s" % error)



class Refused(Exception):
    """The confinement the render asked for could not be applied: the code must not run."""


def confine(request, read_paths):
    """The kernel layers the request asks for (`confine`: {"kernel": bool, "landlock": bool}); returns what was applied."""
    wanted = request.get("confine") or {}
    if not wanted.get("kernel"):
        return {}
    try:
        import refigure_jail
    except ImportError as error:
        raise Refused("the kernel sandbox module is missing (%s)" % error) from None
    try:
        limits = request.get("limits") or {}
        tmpfs = None
        if wanted.get("tmpfs"):
            tmpfs = (int(limits.get("disk_mb") or 512) * 1024 * 1024, int(limits.get("disk_files") or 10000))
        return refigure_jail.confine(request["scratch"], read_paths, own_pid=os.getpid(), use_landlock=bool(wanted.get("landlock")), tmpfs=tmpfs)
    except refigure_jail.JailError as error:
        raise Refused(str(error)) from None


# ---------------------------------------------------------------------------------------------
# The audit tripwire: reports what the code tried in words; the kernel layers do the refusing
# ---------------------------------------------------------------------------------------------


class Blocked(PermissionError):
    """Raised by the audit hook; the message says what was refused."""

    # The model's traceback shows a plain PermissionError, which is what the code would see anyway.
    __qualname__ = "PermissionError"
    __module__ = "builtins"


def _is_write(mode, flags):
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    if isinstance(flags, int) and flags >= 0:
        wanted = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_APPEND", 0)
        return bool(flags & wanted)
    return False


def make_audit_hook(scratch, blocked_log):
    realpath = os.path.realpath
    fspath = os.fspath
    sep = os.sep
    root = realpath(scratch)
    root_prefix = root.rstrip(sep) + sep

    def inside(path):
        if isinstance(path, int) or path is None:
            return True  # already-open descriptors were checked when opened
        try:
            p = fspath(path)
            if isinstance(p, bytes):
                p = p.decode("utf-8", "surrogateescape")
        except TypeError:
            return False
        resolved = realpath(p)
        return resolved == root or resolved.startswith(root_prefix)

    def refuse(message):
        blocked_log.append(message)
        raise Blocked(message)

    def outside_message(path):
        try:
            shown = fspath(path)
        except TypeError:
            shown = repr(path)
        if isinstance(shown, bytes):
            shown = shown.decode("utf-8", "replace")
        return "the code tried to write outside its scratch folder: %s (blocked)" % shown

    process_events = frozenset(
        [
            "subprocess.Popen",
            "os.system",
            "os.exec",
            "os.posix_spawn",
            "os.spawn",
            "os.fork",
            "os.forkpty",
            "os.startfile",
            "pty.spawn",
            "os.popen",
        ]
    )
    lookup_events = frozenset(
        [
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.gethostbyname_ex",
            "socket.gethostbyaddr",
            "socket.getnameinfo",
        ]
    )
    connect_events = frozenset(["socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"])
    signal_events = frozenset(["os.kill", "os.killpg", "signal.pthread_kill"])
    # Events whose arguments name paths that will be written (index of each path argument).
    write_paths = {
        "os.remove": (0,),
        "os.rmdir": (0,),
        "os.mkdir": (0,),
        "os.rename": (0, 1),
        "os.replace": (0, 1),
        "os.link": (1,),
        "os.symlink": (1,),
        "os.truncate": (0,),
        "os.chmod": (0,),
        "os.chown": (0,),
        "os.chflags": (0,),
        "os.lchflags": (0,),
        "os.utime": (0,),
        "os.setxattr": (0,),
        "os.removexattr": (0,),
        "os.mkfifo": (0,),
        "os.mknod": (0,),
        "shutil.rmtree": (0,),
        "shutil.copyfile": (1,),
        "shutil.copymode": (1,),
        "shutil.copystat": (1,),
        "shutil.move": (0, 1),
        "shutil.make_archive": (0,),
        "shutil.unpack_archive": (1,),
        "tempfile.mkstemp": (0,),
        "tempfile.mkdtemp": (0,),
    }
    # Modules that create processes without an audit event; already loaded and neutered, never loaded again.
    unaudited_modules = frozenset(["_posixsubprocess", "_winapi"])
    # Introspection that could reach this hook's own state, and limits the code must not lift.
    forbidden = frozenset(
        [
            "gc.get_objects",
            "gc.get_referrers",
            "gc.get_referents",
            "resource.setrlimit",
            "resource.prlimit",
            "socket.sethostname",
            "sys._current_frames",
        ]
    )

    def hook(event, args):
        if event == "import":
            if args and args[0] in unaudited_modules:
                refuse("the code tried to start a process (blocked)")
            return
        if event == "open":
            if len(args) >= 3 and _is_write(args[1], args[2]) and not inside(args[0]):
                refuse(outside_message(args[0]))
            return
        if event in write_paths:
            for index in write_paths[event]:
                if index < len(args) and not inside(args[index]):
                    refuse(outside_message(args[index]))
            return
        if event in process_events:
            refuse("the code tried to start a process (blocked)")
        if event in connect_events:
            address = args[1] if len(args) > 1 else None
            if isinstance(address, tuple) and len(address) >= 2:
                where = "%s:%s" % (address[0], address[1])
            else:
                where = str(address)
            verb = "listen on" if event == "socket.bind" else "open a network connection to"
            refuse("the code tried to %s %s (blocked)" % (verb, where))
        if event in lookup_events:
            host = args[0] if args else ""
            port = args[1] if event == "socket.getaddrinfo" and len(args) > 1 else None
            if port is not None:
                refuse("the code tried to open a network connection to %s:%s (blocked)" % (host, port))
            refuse("the code tried to look up the network address of %s (blocked)" % (host,))
        if event == "socket.__new__":
            # The kernel refuses every socket; this names it. Lookups and connects above name the address.
            refuse("the code tried to open a network socket (blocked)")
        if event in signal_events:
            refuse("the code tried to send a signal to a process (blocked)")
        if event.startswith("ctypes."):
            refuse("the code tried to call native code through ctypes (%s, blocked)" % event)
        if event in forbidden:
            refuse("the code tried to use %s (blocked)" % event)

    return hook


def close_unaudited_doors(blocked_log):
    """Process creation that raises no audit event: `_posixsubprocess.fork_exec` (and fresh copies of it).

    The audit hook refuses a re-import of the module; this replaces the function in the loaded one and
    refuses to build a new copy through `_imp`.
    """

    def refuse(*_args, **_kwargs):
        message = "the code tried to start a process (blocked)"
        blocked_log.append(message)
        raise Blocked(message)

    try:
        import _posixsubprocess

        _posixsubprocess.fork_exec = refuse
    except ImportError:
        pass
    import _imp

    guarded = frozenset(["_posixsubprocess", "_winapi"])
    for name in ("create_builtin", "create_dynamic"):
        original = getattr(_imp, name, None)
        if original is None:
            continue

        def guard(spec, *args, _original=original):
            if getattr(spec, "name", None) in guarded:
                refuse()
            return _original(spec, *args)

        setattr(_imp, name, guard)
