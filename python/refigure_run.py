"""The render child's run: the model's code executed with savefig redirected, and one result frame out.

Everything here runs in the forked (or cold-started) child. The frame is written to a pipe only this
child holds; the worker trusts none of it beyond "what the code said happened" and checks the PNG itself.
"""

import io
import json
import os
import signal
import struct
import sys
import traceback

import refigure_artists
import refigure_sandbox
import refigure_text
from refigure_sandbox import Blocked

# The final PNG is never drawn larger than this on its long side, whatever figure size the code asked for.
MAX_RENDER_SIDE = 4096
FRAME_MAGIC = b"\x00REFIGURE-FRAME\x00"
# Texts reported per render, at most.
MAX_TEXTS = 500
# A vector export (SVG or PDF) of the redraw, for papers: larger ones are not sent.
MAX_EXPORT_BYTES = 32 * 1024 * 1024
EXPORT_FORMATS = ("svg", "pdf")


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


def chosen_figure(plt, redirector):
    """The figure the code meant (the last one it saved, else the current one) and the save options kept; None without one."""
    if redirector.figures:
        figure, kwargs = redirector.figures[-1]
    elif plt.get_fignums():
        figure, kwargs = plt.gcf(), {}
    else:
        return None, {}
    return figure, {k: v for k, v in kwargs.items() if k in ("bbox_inches", "pad_inches", "facecolor", "edgecolor", "transparent")}


def figure_vector(plt, redirector, original_savefig, fmt):
    """The figure as SVG or PDF, saved by matplotlib itself with the same options, without dates (so the same code gives the same bytes)."""
    figure, keep = chosen_figure(plt, redirector)
    if figure is None:
        return b""
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"CreationDate": None, "ModDate": None}
    with plt.rc_context({"svg.hashsalt": "refigure"}):
        original_savefig(figure, buf, format=fmt, metadata=metadata, **keep)
    data = buf.getvalue()
    if len(data) > MAX_EXPORT_BYTES:
        raise ValueError("the %s is %d bytes, more than the %d allowed" % (fmt.upper(), len(data), MAX_EXPORT_BYTES))
    return data


def figure_png(plt, redirector, original_savefig, like):
    """The PNG bytes of the figure the code meant: the last one it saved, else the current one."""
    figure, keep = chosen_figure(plt, redirector)
    if figure is None:
        return None, []
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
    # The texts the save paints are recorded as it draws (no second draw), for the text figures.
    with refigure_text.recording_texts() as recording:
        # Fast zlib level: the PNG only travels to the parent, which writes it out once.
        original_savefig(figure, buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1}, **keep)
    png = buf.getvalue()
    width, height = struct.unpack(">II", png[16:24])
    if like and like.get("width") and like.get("height"):
        # Boxes in the original's pixels: the worker fits the render into the original's box the same way.
        width, height = int(like["width"]), int(like["height"])
    try:
        texts = recording.items(width, height)[:MAX_TEXTS]
    except Exception:
        texts = []
    return png, texts


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


def run_child(request, result_fd, matplotlib, plt, read_paths, keep_fds):
    """Runs the model's code with every guard in place and writes one result frame to `result_fd`.

    Frame: the vector export's bytes (when one was asked for), the PNG bytes, the JSON header announcing both
    lengths, the header's length (4 bytes,
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
    compat = None

    def emit(header, png=b"", vector=b""):
        header["png_bytes"] = len(png)
        header["export_bytes"] = len(vector)
        header["blocked"] = blocked_log[:20]
        if compat is not None:
            try:
                header["compat"] = list(compat.applied())[:20]
            except BaseException:
                pass
        data = dumps(header).encode("utf-8")
        payload = vector + png + data + pack(">I", len(data)) + FRAME_MAGIC
        view = memoryview(payload)
        while view:
            n = write(result_fd, view)
            view = view[n:]

    refigure_sandbox.close_inherited_fds(keep_fds)
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
    if request.get("artists"):
        # Off by default: only the reference-code figures need to know which call drew what.
        refigure_artists.instrument()
    # The shims were installed once in the warm parent (refigure_worker); only what fires here counts.
    compat = sys.modules.get("refigure_compat")
    if compat is not None:
        compat.reset()
    import linecache

    linecache.cache["<figure>"] = (len(code), None, [l + "\n" for l in code_lines], "<figure>")

    refigure_sandbox.apply_limits(limits)
    try:
        refigure_sandbox.confine(request, read_paths)
    except refigure_sandbox.Refused as error:
        emit({"ok": False, "error": {"kind": "refused", "message": "the sandbox could not be set up, so the code was not run: %s" % error}})
        return
    if request.get("tripwire", True):
        refigure_sandbox.close_unaudited_doors(blocked_log)
        sys.addaudithook(refigure_sandbox.make_audit_hook(scratch, blocked_log))

    code_builtins = compat.code_builtins() if compat is not None else __builtins__
    globals_ = {"__name__": "__main__", "__builtins__": code_builtins, "__file__": os.path.join(scratch, "figure.py")}
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
        png, texts = figure_png(plt, redirector, original_savefig, request.get("like"))
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
    header = {"ok": True, "texts": texts}
    vector = b""
    if request.get("export") in EXPORT_FORMATS:
        try:
            vector = figure_vector(plt, redirector, original_savefig, request["export"])
        except BaseException as exc:
            header["export_error"] = "%s: %s" % (type(exc).__name__, str(exc)[:200])
    if request.get("artists"):
        try:
            header["artists"] = refigure_artists.describe(redirector.figures[-1][0] if redirector.figures else plt.gcf())
        except Exception as exc:
            header["artists_error"] = "%s: %s" % (type(exc).__name__, str(exc)[:200])
    emit(header, png, vector)


def child_entry(request, result_fd, output_fd, import_plotting, read_paths):
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
    run_child(request, result_fd, matplotlib, plt, read_paths, {0, 1, 2, result_fd})
    try:
        sys.stdout.flush()
    except BaseException:
        pass
