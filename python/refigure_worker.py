"""Refigure's render worker: runs model-written matplotlib code in sandboxed children, speaking JSON lines.

Protocol (stdin/stdout, one JSON object per line; stdout carries nothing else):
  first line out: {"type": "hello", "protocol": 1, "python": ..., "matplotlib": ..., "fork": bool}
  in:  {"id", "op": "render" | "compare" | "convert" | "ping" | "cancel" | "shutdown", ...}
  out: {"id", "ok", ...}

Each render runs in a forked child (a fresh subprocess where fork is missing, or when asked
for `cold`), so the warm parent never runs untrusted code and every render starts clean.
Plain Python >= 3.9 with matplotlib, numpy and Pillow only.
"""

import io
import json
import os
import signal
import struct
import sys
import time
import traceback

PROTOCOL = 1
# Refigure's own folder may be read-only (a sandbox, an installed extension): never write __pycache__ there.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
# `-I` leaves the script's folder off sys.path; the sibling modules live there.
if HERE not in sys.path:
    sys.path.insert(0, HERE)

OUTPUT_LIMIT = 64 * 1024
RESULT_LIMIT = 256 * 1024 * 1024
# The final PNG is never drawn larger than this on its long side, whatever figure size the code asked for.
MAX_RENDER_SIDE = 4096
KILL_GRACE = 0.3
FRAME_MAGIC = b"\x00REFIGURE-FRAME\x00"
CAN_FORK = hasattr(os, "fork") and sys.platform != "win32"

_protocol_out = None


def log(message):
    sys.stderr.write("refigure-worker: %s\n" % message)
    sys.stderr.flush()


def send(obj):
    _protocol_out.write(json.dumps(obj, ensure_ascii=True) + "\n")
    _protocol_out.flush()


def import_plotting():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy
    import PIL.Image

    # Resolve pyplot's backend now: the sandbox later turns switch_backend into a no-op.
    plt.switch_backend("Agg")
    return matplotlib, plt, numpy, PIL


def warm_up(plt):
    # Loads fonts, mathtext and the Agg pipeline once in the parent so forked children start hot.
    import matplotlib.patches  # noqa: F401
    import matplotlib.patheffects  # noqa: F401
    import matplotlib.ticker  # noqa: F401
    import matplotlib.colors  # noqa: F401
    import matplotlib.lines  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    try:
        import mpl_toolkits.mplot3d  # noqa: F401
    except Exception:  # a broken optional toolkit must not stop the worker
        pass
    fig = plt.figure(figsize=(2, 2), dpi=50)
    ax = fig.add_subplot(111)
    ax.plot([0, 1], [0, 1], "r--", label="a")
    ax.set_title(r"$\alpha^2$ warm")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close("all")


def optional_module(name):
    """The sibling compare / imageops modules are optional: without them a reply just carries no figures."""
    try:
        return __import__(name)
    except ImportError as error:
        if getattr(error, "name", None) == name:
            return None
        raise


# ---------------------------------------------------------------------------------------------
# Images (parent side: trusted code reading images the child produced)
# ---------------------------------------------------------------------------------------------


def load_rgb(source):
    """First frame, EXIF orientation applied, composited on white, RGB. `source` is a path or bytes."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = 80_000_000
    image = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    try:
        image.seek(0)
    except EOFError:
        pass
    return flatten(ImageOps.exif_transpose(image))


def flatten(image):
    """RGB, with any transparency composited on white (how the panel and the comparison see an image)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return image.convert("RGB")


def fit_to_box(image, width, height):
    """Scale keeping the aspect ratio and centre on white: the comparison needs the original's box."""
    from PIL import Image

    if image.size == (width, height):
        return image
    scale = min(width / image.width, height / image.height)
    new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resized = image.resize(new_size, Image.LANCZOS)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    canvas.paste(resized, ((width - new_size[0]) // 2, (height - new_size[1]) // 2))
    return canvas


def write_png(image, path, encoded=None):
    """Writes the render: the child's own PNG bytes when the image was not refitted, else a fresh encoding."""
    # The path sits outside the child's scratch, but never follow whatever might already be there.
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    if encoded is not None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(encoded)
        return
    image.save(path, format="PNG", compress_level=1)


_original_cache = {}


def load_original(path):
    """The original, decoded once per version of the file: the live loop and refinement compare against it again and again."""
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    image = _original_cache.get(key)
    if image is None:
        image = load_rgb(path)
        _original_cache.clear()
        _original_cache[key] = image
    return image


def compare_paths(original_path, rendered_image, diff_path):
    compare = optional_module("refigure_compare")
    if compare is None:
        return None
    import numpy

    original = load_original(original_path)
    rendered = fit_to_box(rendered_image, original.width, original.height)
    metrics = compare.compare_images(numpy.asarray(original), numpy.asarray(rendered), diff_path)
    return {k: float(v) for k, v in metrics.items()} if isinstance(metrics, dict) else metrics


# ---------------------------------------------------------------------------------------------
# The child: everything below `run_child` runs with the sandbox in place
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


class _Redirector:
    """Where the code's savefig calls really write: inside scratch, keeping only the file name."""

    def __init__(self, scratch):
        self.scratch = scratch
        self.figures = []

    def path(self, fname):
        if isinstance(fname, (str, bytes)) or hasattr(fname, "__fspath__"):
            name = os.path.basename(os.fsdecode(os.fspath(fname))) or "figure.png"
            return os.path.join(self.scratch, name)
        return fname  # a file-like object: the code keeps it


def prepare_matplotlib(matplotlib, plt, like, redirector):
    from matplotlib.figure import Figure

    # The child is a fresh fork (or a fresh interpreter), so rcParams are still the defaults here.
    matplotlib.rcParams["savefig.dpi"] = "figure"
    if like and like.get("width") and like.get("height"):
        dpi = 100.0
        matplotlib.rcParams["figure.dpi"] = dpi
        matplotlib.rcParams["figure.figsize"] = (like["width"] / dpi, like["height"] / dpi)

    original_savefig = Figure.savefig

    def savefig(self, fname, *args, **kwargs):
        redirector.figures.append((self, dict(kwargs)))
        return original_savefig(self, redirector.path(fname), *args, **kwargs)

    def pyplot_savefig(fname, *args, **kwargs):
        return savefig(plt.gcf(), fname, *args, **kwargs)

    def no_op(*_args, **_kwargs):
        return None

    Figure.savefig = savefig
    plt.savefig = pyplot_savefig
    plt.show = no_op
    Figure.show = no_op
    plt.pause = no_op
    plt.ion = no_op
    plt.switch_backend = no_op
    matplotlib.use = no_op
    return original_savefig


class FigureTooLarge(ValueError):
    pass


def figure_png(plt, redirector, original_savefig, like):
    """The PNG bytes of the figure the code meant: the last one it saved, else the current one."""
    figure, kwargs = None, {}
    if redirector.figures:
        figure, kwargs = redirector.figures[-1]
    else:
        if not plt.get_fignums():
            return None
        figure = plt.gcf()
    keep = {k: v for k, v in kwargs.items() if k in ("bbox_inches", "pad_inches", "facecolor", "edgecolor", "transparent")}
    width, height = figure.get_size_inches()
    dpi = figure.dpi
    if max(width, height) * dpi >= 65536:
        # Agg's own limit: the code could not have saved this figure itself either.
        raise FigureTooLarge("the figure is %d × %d pixels, too large to draw (at most 65536 on a side)" % (round(width * dpi), round(height * dpi)))
    # Drawn bigger than twice the original's box, the extra pixels would only be scaled away again.
    limit = MAX_RENDER_SIDE
    if like and like.get("width") and like.get("height"):
        limit = min(limit, max(1024, 2 * int(like["width"]), 2 * int(like["height"])))
    if max(width, height) * dpi > limit:
        dpi = limit / max(width, height)
    buf = io.BytesIO()
    # Fast zlib level: the PNG only travels to the parent, which writes it out once.
    original_savefig(figure, buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1}, **keep)
    return buf.getvalue()


def model_traceback(exc_type, exc, tb, code_lines):
    frames = [f for f in traceback.extract_tb(tb) if f.filename == "<figure>"]
    line = frames[-1].lineno if frames else None
    if isinstance(exc, SyntaxError) and exc.filename == "<figure>":
        line = exc.lineno
    parts = []
    if frames:
        parts.append("Traceback (most recent call last):\n")
        for f in frames:
            parts.append('  File "<figure>", line %d, in %s\n' % (f.lineno, f.name))
            if f.lineno and 0 < f.lineno <= len(code_lines):
                parts.append("    %s\n" % code_lines[f.lineno - 1].strip())
    parts.extend(traceback.format_exception_only(exc_type, exc))
    return "".join(parts), line


def classify(exc, limits):
    if isinstance(exc, Blocked):
        return "blocked", str(exc)
    if isinstance(exc, MemoryError):
        return "memory", "the code exceeded the memory limit of %s MiB" % limits.get("memory_mb", "?")
    if isinstance(exc, SyntaxError):
        return "syntax", "the code does not parse: %s (line %s)" % (exc.msg, exc.lineno)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return "exception", "%s: %s" % (type(exc).__name__, text) if text else type(exc).__name__


def run_child(request, result_fd, matplotlib, plt):
    """Runs the model's code with every guard in place and writes one result frame to `result_fd`.

    Frame: the PNG bytes, the JSON header announcing their length, the header's length (4 bytes,
    big-endian) and a magic trailer. The parent reads it from the end, so anything the code itself
    wrote into the descriptor earlier is ignored.
    """
    write = os.write
    dumps = json.dumps
    pack = struct.pack
    scratch = request["scratch"]
    limits = request.get("limits") or {}
    code = request.get("code", "")
    code_lines = code.splitlines()
    blocked_log = []

    def emit(header, png=b""):
        header["png_bytes"] = len(png)
        header["blocked"] = blocked_log[:20]
        data = dumps(header).encode("utf-8")
        payload = png + data + pack(">I", len(data)) + FRAME_MAGIC
        view = memoryview(payload)
        while view:
            n = write(result_fd, view)
            view = view[n:]

    os.chdir(scratch)
    os.environ["HOME"] = scratch
    os.environ["TMPDIR"] = scratch
    import tempfile

    tempfile.tempdir = scratch
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if hasattr(signal, "SIGXFSZ"):
        # A write past the file-size limit then fails with an error instead of killing the child.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    redirector = _Redirector(scratch)
    original_savefig = prepare_matplotlib(matplotlib, plt, request.get("like"), redirector)
    import linecache

    linecache.cache["<figure>"] = (len(code), None, [l + "\n" for l in code_lines], "<figure>")

    apply_limits(limits)
    close_unaudited_doors(blocked_log)
    sys.addaudithook(make_audit_hook(scratch, blocked_log))

    globals_ = {"__name__": "__main__", "__builtins__": __builtins__, "__file__": os.path.join(scratch, "figure.py")}
    try:
        compiled = compile(code, "<figure>", "exec", dont_inherit=True)
        exec(compiled, globals_)
    except SystemExit as exc:
        status = exc.code
        if status not in (None, 0):
            emit({"ok": False, "error": {"kind": "exit", "message": "the code called sys.exit(%r)" % (status,)}})
            return
    except BaseException as exc:  # the code may raise anything, including KeyboardInterrupt
        try:
            text, line = model_traceback(type(exc), exc, exc.__traceback__, code_lines)
        except BaseException:
            text, line = "", None
        kind, message = classify(exc, limits)
        error = {"kind": kind, "message": message, "traceback": text}
        if line:
            error["line"] = line
        emit({"ok": False, "error": error})
        return
    try:
        png = figure_png(plt, redirector, original_savefig, request.get("like"))
    except MemoryError:
        emit({"ok": False, "error": {"kind": "memory", "message": "the code exceeded the memory limit of %s MiB" % limits.get("memory_mb", "?")}})
        return
    except FigureTooLarge as exc:
        emit({"ok": False, "error": {"kind": "exception", "message": str(exc)}})
        return
    except BaseException as exc:
        emit({"ok": False, "error": {"kind": "exception", "message": "the figure could not be saved: %s: %s" % (type(exc).__name__, exc)}})
        return
    if png is None:
        emit({"ok": False, "error": {"kind": "no-figure", "message": "the code drew no figure"}})
        return
    emit({"ok": True}, png)


def child_entry(request, result_fd, output_fd):
    """Common child set-up after fork (POSIX) or spawn (cold): descriptors, session, imports."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    for fd in (devnull, output_fd):
        if fd > 2 and fd != result_fd:
            os.close(fd)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", buffering=1, closefd=False)
    sys.stderr = sys.stdout
    matplotlib, plt, _numpy, _pil = import_plotting()
    run_child(request, result_fd, matplotlib, plt)
    try:
        sys.stdout.flush()
    except BaseException:
        pass


# ---------------------------------------------------------------------------------------------
# The parent: runs one render at a time, keeps reading stdin for cancel / ping / shutdown
# ---------------------------------------------------------------------------------------------


class Stdin:
    """Line reader over fd 0 that can be polled without blocking (POSIX) or read blocking (Windows)."""

    def __init__(self):
        self.fd = sys.stdin.fileno()
        self.buffer = b""
        self.closed = False
        self.pending = []

    def read_available(self):
        data = os.read(self.fd, 65536)
        if not data:
            self.closed = True
            return
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                try:
                    self.pending.append(json.loads(line.decode("utf-8")))
                except ValueError as error:
                    log("ignored a line that is not JSON: %s" % error)

    def next_blocking(self):
        while not self.pending and not self.closed:
            self.read_available()
        return self.pending.pop(0) if self.pending else None


def kill_group(pid, process=None):
    """SIGTERM, a short grace, then SIGKILL, to the child's whole process group."""
    if CAN_FORK:
        for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 0)):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    done, _status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    return
                if done:
                    return
                time.sleep(0.01)
    elif process is not None:
        process.kill()


class Child:
    """One running render: a forked child or a cold subprocess, its output and result pipes."""

    def __init__(self, request, matplotlib, plt, cold):
        self.output = bytearray()
        self.output_dropped = 0
        self.result = bytearray()
        self.process = None
        self.pid = None
        self.status = None
        out_r, out_w = os.pipe()
        res_r, res_w = os.pipe()
        if CAN_FORK and not cold:
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    os.setsid()
                    die_with_parent()
                    os.close(out_r)
                    os.close(res_r)
                    # The protocol pipes and anything else the worker holds must not reach the code.
                    low, high = sorted((out_w, res_w))
                    os.closerange(3, low)
                    os.closerange(low + 1, high)
                    os.closerange(high + 1, 65536)
                    child_entry(request, res_w, out_w)
                except BaseException:
                    code = 70
                finally:
                    os._exit(code)
            self.pid = pid
        else:
            import subprocess

            kwargs = {}
            if os.name == "nt":
                kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
            else:
                kwargs["start_new_session"] = True
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-u", os.path.abspath(__file__), "--child"],
                stdin=subprocess.PIPE,
                stdout=res_w,
                stderr=out_w,
                close_fds=True,
                **kwargs,
            )
            self.pid = self.process.pid
            self.process.stdin.write(json.dumps(request).encode("utf-8"))
            self.process.stdin.close()
        os.close(out_w)
        os.close(res_w)
        self.out_r = out_r
        self.res_r = res_r

    def drain(self, fd):
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            return False
        if fd == self.out_r:
            room = OUTPUT_LIMIT - len(self.output)
            self.output += data[: max(0, room)]
            self.output_dropped += max(0, len(data) - max(0, room))
        else:
            self.result += data
            if len(self.result) > RESULT_LIMIT:
                # Only the end matters: that is where the frame is.
                del self.result[: len(self.result) - RESULT_LIMIT]
        return True

    def reap(self):
        if self.process is not None:
            self.status = self.process.wait()
            return
        # Whatever the child left in its group goes with it; the group id stays ours until reaped.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            _pid, status = os.waitpid(self.pid, 0)
            self.status = status
        except ChildProcessError:
            self.status = None

    def kill(self):
        kill_group(self.pid, self.process)
        self.reap()

    def close(self):
        for fd in (self.out_r, self.res_r):
            try:
                os.close(fd)
            except OSError:
                pass

    def text_output(self):
        text = self.output.decode("utf-8", "replace")
        if self.output_dropped:
            text += "\n… truncated (%d more bytes)" % self.output_dropped
        return text

    def exit_description(self):
        status = self.status
        if status is None:
            return None, None
        if self.process is not None:
            return (None, -status) if status < 0 else (status, None)
        if os.WIFSIGNALED(status):
            return None, os.WTERMSIG(status)
        return os.WEXITSTATUS(status), None


class Worker:
    def __init__(self):
        self.stdin = Stdin()
        self.matplotlib, self.plt, self.numpy, self.pil = import_plotting()
        warm_up(self.plt)

    def hello(self):
        send(
            {
                "type": "hello",
                "protocol": PROTOCOL,
                "python": sys.version.split()[0],
                "matplotlib": self.matplotlib.__version__,
                "numpy": self.numpy.__version__,
                "pillow": self.pil.__version__,
                "fork": CAN_FORK,
                "pid": os.getpid(),
            }
        )

    def serve(self):
        self.hello()
        while True:
            request = self.stdin.next_blocking()
            if request is None:
                return
            if not self.handle(request):
                return

    def handle(self, request):
        rid = request.get("id")
        op = request.get("op")
        started = time.monotonic()
        try:
            if op == "ping":
                send({"id": rid, "ok": True, "type": "pong"})
            elif op == "shutdown":
                send({"id": rid, "ok": True})
                return False
            elif op == "cancel":
                pass  # nothing is running: the render it names has already replied
            elif op == "render":
                reply = self.render(request)
                if reply is None:
                    return False
                reply["seconds"] = round(time.monotonic() - started, 4)
                send(reply)
            elif op == "compare":
                send(self.compare(request))
            elif op == "convert":
                send(self.convert(request))
            else:
                send({"id": rid, "ok": False, "error": {"kind": "worker", "message": "unknown op %r" % (op,)}})
        except Exception as error:
            log(traceback.format_exc())
            send({"id": rid, "ok": False, "error": {"kind": "worker", "message": "%s: %s" % (type(error).__name__, error)}})
        return True

    def compare(self, request):
        rid = request.get("id")
        if optional_module("refigure_compare") is None:
            return {"id": rid, "ok": False, "error": {"kind": "worker", "message": "the comparison module (refigure_compare.py) is not available"}}
        try:
            rendered = load_rgb(request["rendered"])
        except Exception as error:
            return {"id": rid, "ok": False, "error": {"kind": "input", "message": "cannot read %s: %s" % (request.get("rendered"), error)}}
        try:
            metrics = compare_paths(request["original"], rendered, request.get("diff_png"))
        except Exception as error:
            return {"id": rid, "ok": False, "error": {"kind": "input", "message": "cannot compare: %s" % (error,)}}
        return {"id": rid, "ok": True, "metrics": metrics, "diff_png": request.get("diff_png")}

    def convert(self, request):
        rid = request.get("id")
        imageops = optional_module("refigure_imageops")
        if imageops is None:
            return {"id": rid, "ok": False, "error": {"kind": "worker", "message": "the image module (refigure_imageops.py) is not available"}}
        try:
            result = imageops.convert(request)
        except Exception as error:
            return {"id": rid, "ok": False, "error": {"kind": "input", "message": "%s: %s" % (type(error).__name__, error)}}
        reply = {"id": rid, "ok": True}
        if isinstance(result, dict):
            reply.update(result)
        reply["id"] = rid
        return reply

    def render(self, request):
        """Runs one render; returns the reply, or None when the worker must stop (shutdown / stdin closed)."""
        rid = request.get("id")
        timeout = float(request.get("timeout") or 30)
        limits = dict(request.get("limits") or {})
        limits.setdefault("cpu_s", int(timeout) + 2)
        request["limits"] = limits
        like = request.get("like")
        try:
            child = Child(request, self.matplotlib, self.plt, bool(request.get("cold")))
        except OSError as error:
            return {"id": rid, "ok": False, "error": {"kind": "worker", "message": "could not start the render: %s" % error}}
        try:
            outcome = self.wait(child, rid, timeout)
        finally:
            child.close()
        if outcome == "stop":
            return None
        reply = {"id": rid, "output": child.text_output()}
        if outcome == "timeout":
            reply.update(ok=False, error={"kind": "timeout", "message": "the code ran longer than %g s" % timeout})
            return reply
        if outcome == "cancelled":
            reply.update(ok=False, error={"kind": "cancelled", "message": "the render was cancelled"})
            return reply
        header, png = self.parse_result(child.result)
        blocked = (header or {}).get("blocked") or []
        if blocked:
            notes = "".join("\n[refigure] %s" % b for b in blocked)
            reply["output"] = (reply["output"] + notes).lstrip("\n")
        if header is None:
            code, sig = child.exit_description()
            if sig == getattr(signal, "SIGXCPU", -1):
                error = {"kind": "timeout", "message": "the code used more than %s s of CPU time" % limits["cpu_s"]}
            elif sig in (getattr(signal, "SIGSEGV", -1), getattr(signal, "SIGABRT", -1), getattr(signal, "SIGBUS", -1)):
                error = {"kind": "exit", "message": "the code crashed the Python process (signal %d)" % sig}
            elif sig is not None:
                error = {"kind": "exit", "message": "the code's process was killed (signal %d)" % sig}
            else:
                error = {"kind": "exit", "message": "the code ended the process (exit status %s)" % code}
            reply.update(ok=False, error=error)
            return reply
        if not header.get("ok"):
            reply.update(ok=False, error=header.get("error"))
            return reply
        try:
            from PIL import Image

            decoded = Image.open(io.BytesIO(png))
            decoded.load()
            opaque = decoded.mode == "RGB" or (decoded.mode == "RGBA" and decoded.getchannel("A").getextrema()[0] == 255)
            image = flatten(decoded)
        except Exception as error:
            reply.update(ok=False, error={"kind": "worker", "message": "the rendered image cannot be read: %s" % error})
            return reply
        fitted = image
        if like and like.get("width") and like.get("height"):
            fitted = fit_to_box(image, int(like["width"]), int(like["height"]))
        # An RGB PNG that needed no refitting is written as the child encoded it; anything else is encoded afresh.
        reusable = fitted is image and opaque
        write_png(fitted, request["out_png"], png if reusable else None)
        image = fitted
        reply.update(ok=True, png=request["out_png"], width=image.width, height=image.height)
        if like and like.get("path"):
            try:
                diff = request.get("diff_png")
                metrics = compare_paths(like["path"], image, diff)
                if metrics is not None:
                    reply["metrics"] = metrics
                    if diff and os.path.exists(diff):
                        reply["diff_png"] = diff
            except Exception as error:
                log("comparison failed: %s" % traceback.format_exc())
                reply["compare_error"] = "%s: %s" % (type(error).__name__, error)
        return reply

    @staticmethod
    def parse_result(data):
        tail = len(FRAME_MAGIC) + 4
        if len(data) < tail or bytes(data[-len(FRAME_MAGIC) :]) != FRAME_MAGIC:
            return None, b""
        (size,) = struct.unpack(">I", bytes(data[-tail : -len(FRAME_MAGIC)]))
        end = len(data) - tail
        if size > end:
            return None, b""
        try:
            header = json.loads(bytes(data[end - size : end]).decode("utf-8"))
        except ValueError:
            return None, b""
        if not isinstance(header, dict):
            return None, b""
        png_bytes = int(header.get("png_bytes") or 0)
        if png_bytes > end - size:
            return None, b""
        return header, bytes(data[end - size - png_bytes : end - size])

    def wait(self, child, rid, timeout):
        """Pumps the child's pipes until it finishes; honours timeout, cancel, ping and shutdown meanwhile."""
        deadline = time.monotonic() + timeout
        if not CAN_FORK:
            return self.wait_blocking(child, deadline)
        import selectors

        # poll() rather than epoll: it also accepts a stdin that is a plain file.
        selector = selectors.PollSelector() if hasattr(selectors, "PollSelector") else selectors.SelectSelector()
        selector.register(child.out_r, selectors.EVENT_READ)
        selector.register(child.res_r, selectors.EVENT_READ)
        if not self.stdin.closed:
            selector.register(self.stdin.fd, selectors.EVENT_READ)
        open_pipes = 2
        try:
            while open_pipes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    child.kill()
                    return "timeout"
                for key, _mask in selector.select(min(remaining, 0.5)):
                    fd = key.fd
                    if fd == self.stdin.fd:
                        self.stdin.read_available()
                        if self.stdin.closed:
                            selector.unregister(fd)
                            child.kill()
                            return "stop"
                        verdict = self.control(rid, child)
                        if verdict:
                            return verdict
                    elif not child.drain(fd):
                        selector.unregister(fd)
                        open_pipes -= 1
            child.reap()
            return "done"
        finally:
            selector.close()

    def control(self, rid, child):
        """Handles messages that arrive during a render; later renders wait in the queue."""
        kept = []
        verdict = None
        for message in self.stdin.pending:
            op = message.get("op")
            if op == "ping":
                send({"id": message.get("id"), "ok": True, "type": "pong", "busy": rid})
            elif op == "cancel" and message.get("target") in (rid, None):
                child.kill()
                verdict = verdict or "cancelled"
            elif op == "shutdown":
                child.kill()
                send({"id": message.get("id"), "ok": True})
                verdict = "stop"
            else:
                kept.append(message)
        self.stdin.pending = kept
        return verdict

    def wait_blocking(self, child, deadline):
        import threading

        def pump(fd):
            while child.drain(fd):
                pass

        threads = [threading.Thread(target=pump, args=(fd,), daemon=True) for fd in (child.out_r, child.res_r)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            child.kill()
            return "timeout"
        child.reap()
        return "done"


def cold_child_main():
    """`--child`: one render in a fresh interpreter; the request arrives on stdin, the frame leaves on stdout."""
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    result_fd = os.dup(1)
    output_fd = os.dup(2)
    code = 0
    try:
        child_entry(request, result_fd, output_fd)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def main():
    global _protocol_out
    if "--child" in sys.argv[1:]:
        cold_child_main()
        return
    # Protocol lines go to a private duplicate of stdout; anything printed by libraries lands on stderr.
    _protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        worker = Worker()
    except Exception as error:
        send({"type": "fatal", "message": "%s: %s" % (type(error).__name__, error)})
        raise SystemExit(3)
    worker.serve()


if __name__ == "__main__":
    main()
