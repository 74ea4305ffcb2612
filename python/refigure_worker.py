"""Refigure's render worker: runs model-written matplotlib code in sandboxed children, speaking JSON lines.

Protocol (stdin/stdout, one JSON object per line; stdout carries nothing else):
  first line out: {"type": "hello", "protocol": 1, "python": ..., "matplotlib": ..., "fork": bool}
  in:  {"id", "op": "render" | "compare" | "convert" | "ping" | "cancel" | "shutdown", ...}
  out: {"id", "ok", ...}

Each render runs in a forked child (a fresh subprocess where fork is missing, or when asked
for `cold`), so the warm parent never runs untrusted code and every render starts clean.
Plain Python >= 3.9 with matplotlib, numpy and Pillow only.

This file is the protocol loop. The child's confinement is refigure_sandbox (+ refigure_jail, the
kernel layers), its run is refigure_run, and image I/O shared with the comparison is refigure_image.
The worker believes nothing the child says about files: it takes the PNG bytes from the child's
private pipe, checks them, writes the fixed output names itself and computes the figures itself.
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

import refigure_image  # noqa: E402
import refigure_run  # noqa: E402
import refigure_sandbox  # noqa: E402
from refigure_run import FRAME_MAGIC, MAX_RENDER_SIDE  # noqa: E402

OUTPUT_LIMIT = 64 * 1024
# The child's frame: a PNG of at most MAX_RENDER_SIDE squared pixels compresses to far less than this.
RESULT_LIMIT = 64 * 1024 * 1024
# A render's PNG may not declare more pixels than the largest figure the child draws (with slack for
# bbox_inches="tight" padding): a small frame declaring a huge image is refused before decoding.
MAX_RENDER_PIXELS = 2 * MAX_RENDER_SIDE * MAX_RENDER_SIDE
KILL_GRACE = 0.3
CAN_FORK = hasattr(os, "fork") and sys.platform != "win32"
# How often the parent measures what a render has written into its scratch folder.
DISK_POLL_S = 0.02
# Text a child reports about itself, cut to size: an error message, a traceback, one tripwire note.
MESSAGE_LIMIT = 2000
TRACEBACK_LIMIT = 20000
NOTE_LIMIT = 300
# Under bubblewrap, renders get their scratch folders on a size-capped tmpfs mounted here.
SCRATCH_ROOT = os.environ.get("REFIGURE_SCRATCH_ROOT") or None

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
    install_compat(matplotlib, numpy)
    return matplotlib, plt, numpy, PIL


def install_compat(matplotlib, numpy):
    """Compatibility shims for APIs older matplotlib and NumPy had, installed once before any child forks."""
    try:
        import refigure_compat
    except ImportError as error:
        log("compatibility shims unavailable: %s" % error)
        return
    # Written at call time, so the message lands in the child's captured output.
    refigure_compat.install(matplotlib, numpy, lambda message: sys.stderr.write("[refigure] %s\n" % message))


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


def read_paths(matplotlib):
    """What a confined child may read: the interpreter and its packages, our modules, matplotlib's
    data and config, system libraries and fonts. Not HOME, the repository, /proc or other renders."""
    import site

    paths = [sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix), getattr(sys, "base_exec_prefix", sys.prefix)]
    paths.append(os.path.dirname(os.path.realpath(sys.executable)))
    paths += [p for p in sys.path if p and os.path.isdir(p)]
    try:
        paths += site.getsitepackages()
    except AttributeError:
        pass
    paths += [HERE, matplotlib.get_data_path(), matplotlib.get_configdir(), matplotlib.get_cachedir()]
    paths += ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/fonts", "/etc/ld.so.cache", "/etc/localtime", "/etc/matplotlibrc"]
    seen = []
    for p in paths:
        for q in (p, os.path.realpath(p)):
            if q and os.path.exists(q) and q not in seen:
                seen.append(q)
    return seen


def kernel_layers():
    """What this kernel can enforce for a child: the Landlock ABI (0 = none) and whether seccomp filters load."""
    try:
        import refigure_jail

        return {"landlock": refigure_jail.landlock_abi(), "seccomp": bool(refigure_jail.seccomp_available())}
    except Exception as error:  # another OS or architecture: no kernel layer from here
        log("kernel layers unavailable: %s" % error)
        return {"landlock": 0, "seccomp": False}


def clean_texts(items, limit=500):
    """The texts a child reported, kept only in the expected shape: the child is not trusted."""
    import math

    kept = []
    for item in items[:limit]:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        box = item.get("box")
        numbers = [box[i] if isinstance(box, list) and len(box) == 4 else None for i in range(4)]
        numbers += [item.get("rotation"), item.get("fontsize")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
            continue
        kept.append({"text": item["text"][:200], "box": [float(v) for v in numbers[:4]], "rotation": float(numbers[4]), "fontsize": float(numbers[5])})
    return kept


def clean_regions(items, limit=64):
    """The difference regions refigure_compare found, kept only in the expected shape (kind, box, area, ink)."""
    import math

    kept = []
    for item in items[:limit] if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("kind") not in ("missing-ink", "extra-ink", "colour"):
            continue
        box = item.get("box")
        numbers = [box[i] if isinstance(box, list) and len(box) == 4 else None for i in range(4)] + [item.get("area"), item.get("ink")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in numbers):
            continue
        kept.append({"kind": item["kind"], "box": [float(v) for v in numbers[:4]], "area": min(1.0, float(numbers[4])), "ink": min(1.0, float(numbers[5]))})
    return kept


def clean_artists(description):
    """A child's description of its figure's artists (refigure_artists), kept only in the expected shape and bounds."""
    import math

    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    def numbers(v, n):
        return [float(x) for x in v] if isinstance(v, list) and len(v) == n and all(number(x) for x in v) else None

    def word(v):
        return v if isinstance(v, str) and 0 < len(v) <= 40 and all(c.isalnum() or c in ":_-" for c in v) else None

    if not isinstance(description, dict):
        return None
    axes = []
    for entry in (description.get("axes") if isinstance(description.get("axes"), list) else [])[:64]:
        if not isinstance(entry, dict) or numbers(entry.get("box"), 4) is None:
            continue
        kept = {"box": numbers(entry["box"], 4)}
        grid = entry.get("grid")
        if isinstance(grid, list) and len(grid) == 6 and all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g <= 1000 for g in grid):
            kept["grid"] = grid
        for key in ("kind", "xscale", "yscale"):
            if word(entry.get(key)):
                kept[key] = entry[key]
        for key in ("xlim", "ylim"):
            if numbers(entry.get(key), 2) is not None:
                kept[key] = numbers(entry[key], 2)
        axes.append(kept)
    elements = []
    for entry in (description.get("elements") if isinstance(description.get("elements"), list) else [])[:2000]:
        if not isinstance(entry, dict) or not word(entry.get("type")):
            continue
        index, call = entry.get("axes"), entry.get("call")
        if not (isinstance(index, int) and -1 <= index < len(axes) and isinstance(call, int) and 0 <= call < 2**53):
            continue
        colours = entry.get("colors") if isinstance(entry.get("colors"), list) else []
        kept = {"type": entry["type"], "axes": index, "call": call, "colors": [c for c in (numbers(c, 3) for c in colours[:16]) if c and all(0 <= x <= 1 for x in c)]}
        for key, n in (("ends", 4), ("circle", 3)):
            if numbers(entry.get(key), n) is not None:
                kept[key] = numbers(entry[key], n)
        elements.append(kept)
    return {"axes": axes, "elements": elements}


def environment(matplotlib):
    """What a render's pixels depend on beyond the code: backend, DPI, FreeType and the fonts found."""
    info = {"backend": str(matplotlib.get_backend()), "dpi": float(matplotlib.rcParams["figure.dpi"]), "savefigDpi": str(matplotlib.rcParams["savefig.dpi"])}
    try:
        from matplotlib import ft2font

        info["freetype"] = str(getattr(ft2font, "__freetype_version__", ""))
    except Exception:
        pass
    try:
        from matplotlib import font_manager

        info["fonts"] = sorted({f.name for f in font_manager.fontManager.ttflist})[:400]
        info["defaultFont"] = os.path.basename(font_manager.findfont(font_manager.FontProperties()))
    except Exception as error:
        log("fonts could not be listed: %s" % error)
    return info


def scratch_usage(path, max_entries):
    """(bytes, entries) under `path`, counting allocated blocks, stopping early past `max_entries`.

    A folder the render made unreadable (mode 0o300) is opened up first: the worker owns it.
    """
    total, entries, stack = 0, 0, [path]
    while stack and entries <= max_entries:
        folder = stack.pop()
        try:
            it = os.scandir(folder)
        except PermissionError:
            try:
                os.chmod(folder, 0o700)
                it = os.scandir(folder)
            except OSError:
                # Neither listable nor fixable: count it as over the limit rather than as empty.
                return float("inf"), entries
        except OSError:
            continue
        with it:
            for entry in it:
                entries += 1
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                total += getattr(info, "st_blocks", 0) * 512 or info.st_size
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return total, entries


class DiskMeter:
    """What one render has written into its scratch folder, looked at while it runs and once after.

    Under bubblewrap the scratch is a size-capped tmpfs as well, which also bounds files unlinked while
    open; under Landlock alone those are bounded only by the render's limits (open files × file size)
    and freed when it ends.
    """

    def __init__(self, scratch, limits):
        self.scratch = scratch
        self.max_bytes = int(limits.get("disk_mb") or 512) * 1024 * 1024
        self.max_files = int(limits.get("disk_files") or 10000)

    def over(self):
        used, entries = scratch_usage(self.scratch, self.max_files)
        return used > self.max_bytes or entries > self.max_files


def remove_scratch(path):
    """Removes a render's scratch folder, opening up any folder the code made unreadable."""
    import shutil

    def fix(function, name, _info):
        try:
            os.chmod(os.path.dirname(name), 0o700)
            os.chmod(name, 0o700)
            function(name)
        except OSError:
            pass

    for _ in range(3):
        shutil.rmtree(path, onerror=fix)
        if not os.path.lexists(path):
            return
        for root, dirs, _files in os.walk(path):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o700)
                except OSError:
                    pass


def clip(text, limit):
    """A child's text cut to `limit` characters: error messages and tracebacks have no size of their own."""
    if not isinstance(text, str):
        return ""
    return text if len(text) <= limit else text[:limit] + "\n… (%d more characters)" % (len(text) - limit)


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


def signal_group(pid, sig):
    """Signals the child's process group; a child not yet past its setsid() has none, so it is signalled itself.

    Returns False once neither exists.
    """
    try:
        os.killpg(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def kill_group(pid, process=None):
    """SIGTERM, a short grace, then SIGKILL, to the child's whole process group.

    Returns the child's wait status when it was reaped here, else None.
    """
    if CAN_FORK:
        for sig, wait in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, 0)):
            if not signal_group(pid, sig):
                return None
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    done, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    return None
                if done:
                    # Anything left in its group goes too (the group, never the reaped pid: it may be reused).
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                    return status
                time.sleep(0.01)
    elif process is not None:
        process.kill()
    return None


class Child:
    """One running render: a forked child or a cold subprocess, its output and result pipes."""

    def __init__(self, request, matplotlib, plt, cold, paths):
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
                    refigure_sandbox.die_with_parent()
                    os.close(out_r)
                    os.close(res_r)
                    # The protocol channel and every other pipe or socket the worker holds are closed in
                    # refigure_run before the code runs.
                    refigure_run.child_entry(request, res_w, out_w, import_plotting, paths)
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
        signal_group(self.pid, signal.SIGKILL)
        try:
            _pid, status = os.waitpid(self.pid, 0)
            self.status = status
        except ChildProcessError:
            self.status = None

    def kill(self):
        status = kill_group(self.pid, self.process)
        if status is None:
            self.reap()
        else:
            self.status = status

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
        self.kernel = kernel_layers() if CAN_FORK else {"landlock": 0, "seccomp": False}
        self.read_paths = read_paths(self.matplotlib)
        self.original = None

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
                "landlock": self.kernel["landlock"],
                "seccomp": self.kernel["seccomp"],
                "environment": environment(self.matplotlib),
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

    def load_original(self, path):
        """The original, decoded once per version of the file: the live loop and refinement compare against it again and again."""
        stat_ = os.stat(path, follow_symlinks=False)
        key = (path, stat_.st_mtime_ns, stat_.st_size, stat_.st_ino)
        if self.original is None or self.original[0] != key:
            self.original = (key, refigure_image.load_rgb(path))
        return self.original[1]

    def compare(self, request):
        rid = request.get("id")
        import refigure_compare

        try:
            original = self.load_original(request["original"])
            rendered = refigure_image.load_rgb(request["rendered"])
            metrics = refigure_compare.compare(original, rendered, request.get("diff_png"))
        except (OSError, ValueError) as error:
            return {"id": rid, "ok": False, "error": {"kind": "input", "message": "cannot compare: %s" % (error,)}}
        return {"id": rid, "ok": True, "metrics": metrics}

    def convert(self, request):
        rid = request.get("id")
        import refigure_imageops

        try:
            result = refigure_imageops.convert(request)
        except Exception as error:
            return {"id": rid, "ok": False, "error": {"kind": "input", "message": "%s: %s" % (type(error).__name__, error)}}
        reply = {"id": rid, "ok": True}
        if isinstance(result, dict):
            reply.update(result)
        reply["id"] = rid
        return reply

    def render(self, request):
        """Runs one render; returns the reply, or None when the worker must stop (shutdown / stdin closed).

        The request names one folder, `dir`, which Node made for it: the child gets `dir/work` as its scratch
        and the worker writes `dir/out.png` and `dir/diff.png` itself. No path from the child is ever used.
        """
        rid = request.get("id")
        folder = request["dir"]
        if SCRATCH_ROOT:
            # Under bubblewrap: a folder on the worker's own size-capped tmpfs, which Node never sees.
            import tempfile

            request["scratch"] = tempfile.mkdtemp(prefix="r-", dir=SCRATCH_ROOT)
        else:
            request["scratch"] = os.path.join(folder, "work")
        try:
            return self.render_in(request, rid, folder)
        finally:
            if SCRATCH_ROOT:
                remove_scratch(request["scratch"])

    def render_in(self, request, rid, folder):
        timeout = float(request.get("timeout") or 30)
        limits = dict(request.get("limits") or {})
        limits.setdefault("cpu_s", int(timeout) + 2)
        request["limits"] = limits
        like = request.get("like")
        disk = DiskMeter(request["scratch"], limits)
        try:
            child = Child(request, self.matplotlib, self.plt, bool(request.get("cold")), self.read_paths)
        except OSError as error:
            return {"id": rid, "ok": False, "error": {"kind": "worker", "message": "could not start the render: %s" % error}}
        try:
            outcome = self.wait(child, rid, timeout, disk)
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
        if outcome == "disk":
            reply.update(ok=False, error={"kind": "memory", "message": "the code wrote more than %s MiB (or %s files) into its scratch folder" % (limits.get("disk_mb", 512), limits.get("disk_files", 10000))})
            return reply
        header, png, vector = self.parse_result(child.result)
        blocked = (header or {}).get("blocked") or []
        if isinstance(blocked, list) and blocked:
            notes = "".join("\n[refigure] %s" % clip(b, NOTE_LIMIT) for b in blocked[:20] if isinstance(b, str))
            reply["output"] = (reply["output"] + notes).lstrip("\n")
        texts = (header or {}).get("texts")
        if isinstance(texts, list):
            reply["texts"] = clean_texts(texts)
        if request.get("artists") and isinstance((header or {}).get("artists"), dict):
            reply["artists"] = clean_artists(header["artists"])
        compat = (header or {}).get("compat")
        if isinstance(compat, list):
            reply["compat"] = [c for c in compat[:20] if isinstance(c, str) and len(c) <= 40 and c.replace("-", "").replace("_", "").isalnum()]
        if header is None:
            code, sig = child.exit_description()
            if sig == getattr(signal, "SIGXCPU", -1):
                error = {"kind": "timeout", "message": "the code used more than %s s of CPU time" % limits["cpu_s"]}
            elif sig == getattr(signal, "SIGSYS", -1):
                error = {"kind": "blocked", "message": "the code made a system call the sandbox forbids (signal %d)" % sig}
            elif sig in (getattr(signal, "SIGSEGV", -1), getattr(signal, "SIGABRT", -1), getattr(signal, "SIGBUS", -1)):
                error = {"kind": "exit", "message": "the code crashed the Python process (signal %d)" % sig}
            elif sig is not None:
                error = {"kind": "exit", "message": "the code's process was killed (signal %d)" % sig}
            else:
                error = {"kind": "exit", "message": "the code ended the process (exit status %s)" % code}
            reply.update(ok=False, error=error)
            return reply
        if not header.get("ok"):
            error = header.get("error") if isinstance(header.get("error"), dict) else {}
            clean = {"kind": error.get("kind") if isinstance(error.get("kind"), str) else "exception", "message": clip(error.get("message"), MESSAGE_LIMIT) or "the render failed"}
            if isinstance(error.get("traceback"), str):
                clean["traceback"] = clip(error["traceback"], TRACEBACK_LIMIT)
            if isinstance(error.get("line"), int) and not isinstance(error.get("line"), bool):
                clean["line"] = error["line"]
            reply.update(ok=False, error=clean)
            return reply
        try:
            width, height = refigure_image.png_size(png)
            if width * height > MAX_RENDER_PIXELS:
                raise ValueError("it declares %d x %d pixels, more than a render may have" % (width, height))
            decoded = refigure_image.open_image(png, "the rendered image")
            decoded.load()
            opaque = refigure_image.is_opaque_rgb(decoded)
            image = refigure_image.normalise(decoded)
        except Exception as error:
            reply.update(ok=False, error={"kind": "worker", "message": "the rendered image cannot be read: %s" % error})
            return reply
        fitted = image
        if like and like.get("width") and like.get("height"):
            fitted = refigure_image.fit_to(image, int(like["width"]), int(like["height"]))
        # An RGB PNG that needed no refitting is written as the child encoded it; anything else is encoded afresh.
        if fitted is image and opaque:
            refigure_image.write_new(os.path.join(folder, "out.png"), data=png)
        else:
            refigure_image.write_new(os.path.join(folder, "out.png"), image=fitted)
        reply.update(ok=True, width=fitted.width, height=fitted.height)
        export = request.get("export")
        if export in ("svg", "pdf"):
            # Written as the child saved it; Node checks it before it goes anywhere near the user's files.
            if vector:
                refigure_image.write_new(os.path.join(folder, "out." + export), data=vector)
            else:
                reply["export_error"] = clip(header.get("export_error"), MESSAGE_LIMIT) or "the figure could not be saved as %s" % export.upper()
        if like and like.get("file"):
            try:
                import refigure_compare

                original = self.load_original(os.path.join(folder, os.path.basename(like["file"])))
                reply["metrics"], regions = refigure_compare.compare_with_regions(original, fitted, os.path.join(folder, "diff.png"))
                reply["regions"] = clean_regions(regions)
            except Exception as error:
                log("comparison failed: %s" % traceback.format_exc())
                reply["compare_error"] = "%s: %s" % (type(error).__name__, error)
        return reply

    @staticmethod
    def parse_result(data):
        """The header, the PNG and the vector export of a frame (see refigure_run.run_child); (None, b"", b"") when it is not one."""
        none = (None, b"", b"")
        tail = len(FRAME_MAGIC) + 4
        if len(data) < tail or bytes(data[-len(FRAME_MAGIC) :]) != FRAME_MAGIC:
            return none
        (size,) = struct.unpack(">I", bytes(data[-tail : -len(FRAME_MAGIC)]))
        end = len(data) - tail
        if size > end:
            return none
        try:
            header = json.loads(bytes(data[end - size : end]).decode("utf-8"))
        except ValueError:
            return none
        if not isinstance(header, dict):
            return none
        try:
            png_bytes = int(header.get("png_bytes") or 0)
            export_bytes = int(header.get("export_bytes") or 0)
        except (TypeError, ValueError):
            return none
        png_end = end - size
        if png_bytes < 0 or export_bytes < 0 or png_bytes + export_bytes > png_end:
            return none
        png_start = png_end - png_bytes
        return header, bytes(data[png_start:png_end]), bytes(data[png_start - export_bytes : png_start])

    def wait(self, child, rid, timeout, disk):
        """Pumps the child's pipes until it finishes; honours timeout, cancel, ping, shutdown and the disk cap meanwhile."""
        deadline = time.monotonic() + timeout
        next_poll = time.monotonic() + DISK_POLL_S
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
            # A cancel that came in the same read as its render is already queued: stdin will not wake us for it.
            verdict = self.control(rid, child) if self.stdin.pending else None
            if verdict:
                return verdict
            while open_pipes:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    child.kill()
                    return "timeout"
                if now >= next_poll:
                    if disk.over():
                        child.kill()
                        return "disk"
                    next_poll = now + DISK_POLL_S
                for key, _mask in selector.select(min(remaining, DISK_POLL_S)):
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
            # Once more after the end: a render may fill the disk between two looks and exit.
            return "disk" if disk.over() else "done"
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
        import matplotlib

        matplotlib.use("Agg", force=True)
        refigure_run.child_entry(request, result_fd, output_fd, import_plotting, read_paths(matplotlib))
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
    if sys.platform.startswith("linux"):
        # Nothing the worker runs may read its memory or take its descriptors (the protocol channel).
        try:
            import refigure_jail

            refigure_jail.set_dumpable(False)
        except Exception as error:
            log("could not make the worker non-dumpable: %s" % error)
    try:
        worker = Worker()
    except Exception as error:
        send({"type": "fatal", "message": "%s: %s" % (type(error).__name__, error)})
        raise SystemExit(3)
    worker.serve()


if __name__ == "__main__":
    main()
