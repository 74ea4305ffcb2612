"""What a figure draws, read from its artists: the axes grid, and each plotting element with its kind, colours and geometry.

The reference-code figures of `refigure eval` (text, element-type, colour, layout F1 and geometry agreement)
are computed in Node from two of these descriptions, one per program. Only the render child calls this,
and only when the request asks for `artists`:

- ``instrument()`` before the code runs: every artist remembers the plotting call that made it (the
  outermost public Axes or Figure method in progress, or its own constructor when made outside one), so
  the bars of one ``ax.bar`` count as one element and ten ``ax.add_patch`` calls as ten.
- ``describe(fig)`` after the save: ``{"axes": [...], "elements": [...]}`` as documented on each function.

Works on matplotlib 3.6 through 3.11; nothing here draws again.
"""

import functools
import inspect
import math

__all__ = ["instrument", "describe"]

# Bounds on one description; the worker enforces them again (the child is not trusted).
MAX_AXES = 64
MAX_ELEMENTS = 2000
MAX_COLOURS = 16
_CALL = "_refigure_call"
_state = {"depth": 0, "serial": 0}


def _next_serial():
    _state["serial"] += 1
    return _state["serial"]


def _tracked(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _state["depth"]:
            return fn(*args, **kwargs)
        _state["depth"] = 1
        _next_serial()
        try:
            return fn(*args, **kwargs)
        finally:
            _state["depth"] = 0

    wrapper._refigure_tracked = True
    return wrapper


def _track_class(cls):
    for name, value in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(value) or getattr(value, "_refigure_tracked", False):
            continue
        setattr(cls, name, _tracked(value))


def instrument():
    """Tags every artist made from now on with the plotting call that made it. Call once per child, before the code."""
    import sys

    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    classes = [Axes, Figure]
    try:
        from matplotlib.axes._base import _AxesBase

        classes.append(_AxesBase)
    except ImportError:
        pass
    try:
        from matplotlib.figure import SubFigure, FigureBase

        classes += [FigureBase, SubFigure]
    except ImportError:
        pass
    try:
        from matplotlib.projections.polar import PolarAxes

        classes.append(PolarAxes)
    except ImportError:
        pass
    if "mpl_toolkits.mplot3d" in sys.modules:
        classes.append(sys.modules["mpl_toolkits.mplot3d"].Axes3D)
    for cls in classes:
        _track_class(cls)
    init = Artist.__init__

    @functools.wraps(init)
    def tagged_init(self, *args, **kwargs):
        # Made inside a plotting call: that call's number; made on its own (Circle(...)): a call of its own.
        setattr(self, _CALL, _state["serial"] if _state["depth"] else _next_serial())
        return init(self, *args, **kwargs)

    Artist.__init__ = tagged_init


def _finite(values):
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _rgb(colour):
    """(r, g, b) in [0, 1] of a visible colour, else None (fully transparent or 'none')."""
    from matplotlib.colors import to_rgba

    try:
        r, g, b, a = to_rgba(colour)
    except (ValueError, TypeError):
        return None
    if a <= 0.0:
        return None
    return [round(r, 4), round(g, 4), round(b, 4)]


def _distinct(colours):
    out = []
    for c in colours:
        rgb = _rgb(c)
        if rgb is not None and rgb not in out:
            out.append(rgb)
            if len(out) >= MAX_COLOURS:
                break
    return out


def _patch_colours(patch):
    colours = []
    if patch.get_fill():
        colours.append(patch.get_facecolor())
    if (patch.get_linewidth() or 0) > 0:
        colours.append(patch.get_edgecolor())
    return _distinct(colours)


# Collection kinds by their classic names: a newer matplotlib's subclass (FillBetweenPolyCollection) counts as its base.
_COLLECTIONS = (
    "PathCollection", "LineCollection", "PolyCollection", "QuadMesh", "PatchCollection", "TriMesh", "EventCollection",
    "EllipseCollection", "CircleCollection", "RegularPolyCollection", "StarPolygonCollection", "AsteriskPolygonCollection",
    "BrokenBarHCollection", "Poly3DCollection", "Path3DCollection", "Line3DCollection", "Patch3DCollection",
)


def _collection_kind(collection):
    for cls in type(collection).__mro__:
        if cls.__name__ in _COLLECTIONS:
            return cls.__name__.lower()
    return type(collection).__name__.lower()[:30]


def _collection_colours(collection):
    faces = collection.get_facecolor()
    colours = _distinct(list(faces)[:256]) if len(faces) else []
    if not colours:
        edges = collection.get_edgecolor()
        colours = _distinct(list(edges)[:256]) if len(edges) else []
    return colours


def _line_ends(line):
    import numpy as np

    xy = np.asarray(line.get_xydata(), dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        return None
    good = xy[np.isfinite(xy).all(axis=1)]
    if not len(good):
        return None
    ends = [float(good[0][0]), float(good[0][1]), float(good[-1][0]), float(good[-1][1])]
    return ends if _finite(ends) else None


def _in_data(artist, ax):
    try:
        return artist.get_data_transform() == ax.transData
    except Exception:
        return False


def _grid(ax):
    """[nrows, ncols, first row, last row, first col, last col] of a subplot, else None."""
    get = getattr(ax, "get_subplotspec", None)
    spec = get() if get else None
    if spec is None:
        return None
    try:
        nrows, ncols = spec.get_gridspec().get_geometry()
        rows, cols = spec.rowspan, spec.colspan
        return [int(nrows), int(ncols), int(rows.start), int(rows.stop - 1), int(cols.start), int(cols.stop - 1)]
    except Exception:
        return None


def _axes_entry(ax):
    box = ax.get_position()
    entry = {
        "box": [float(box.x0), float(box.y0), float(box.x1), float(box.y1)],
        "grid": _grid(ax),
        "kind": str(getattr(ax, "name", "rectilinear"))[:20],
        "xscale": str(ax.get_xscale())[:20],
        "yscale": str(ax.get_yscale())[:20],
    }
    try:
        limits = [float(v) for v in (*ax.get_xlim(), *ax.get_ylim())]
        if _finite(limits):
            entry["xlim"], entry["ylim"] = limits[:2], limits[2:]
    except Exception:
        pass
    return entry


def _element(kind, artist, index, colours, **extra):
    entry = {"type": kind, "axes": index, "call": int(getattr(artist, _CALL, 0) or 0), "colors": colours}
    entry.update(extra)
    return entry


def _visible(artist):
    try:
        return artist.get_visible()
    except Exception:
        return False


def _elements_of(owner, index, ax=None):
    """The plotting elements an Axes (or, with index -1, a Figure) holds: lines, patches, collections, texts, images."""
    out = []
    for line in getattr(owner, "lines", []):
        if not _visible(line):
            continue
        extra = {}
        ends = _line_ends(line) if ax is not None else None
        if ends is not None:
            extra["ends"] = ends
        out.append(_element("line", line, index, _distinct([line.get_color()]), **extra))
    for patch in getattr(owner, "patches", []):
        if not _visible(patch):
            continue
        name = type(patch).__name__.lower()
        extra = {}
        if ax is not None and name == "circle" and _in_data(patch, ax):
            centre = [float(v) for v in patch.center] + [float(patch.radius)]
            if _finite(centre):
                extra["circle"] = centre
        out.append(_element("patch:" + name[:30], patch, index, _patch_colours(patch), **extra))
    for collection in getattr(owner, "collections", []):
        if not _visible(collection):
            continue
        out.append(_element("collection:" + _collection_kind(collection), collection, index, _collection_colours(collection)))
    for text in getattr(owner, "texts", []):
        if not _visible(text) or not str(text.get_text()).strip():
            continue
        out.append(_element("text", text, index, _distinct([text.get_color()])))
    for image in getattr(owner, "images", []):
        if _visible(image):
            out.append(_element("image", image, index, []))
    return out


def describe(fig):
    """The figure's axes and elements.

    axes: ``{"box": [x0, y0, x1, y1] (figure fraction, y up), "grid": [nrows, ncols, r0, r1, c0, c1] | None,
    "kind", "xscale", "yscale", "xlim", "ylim"}`` in ``fig.axes`` order.
    elements: ``{"type": "line" | "patch:<class>" | "collection:<class>" | "text" | "image", "axes": index or -1
    for the figure itself, "call": the plotting call's number, "colors": [[r, g, b], ...]}``, with ``"ends":
    [x0, y0, x1, y1]`` (a line's first and last finite points, data units) and ``"circle": [cx, cy, r]`` (a
    Circle patch in data units).
    """
    axes = [ax for ax in fig.axes if _visible(ax)][:MAX_AXES]
    elements = []
    for index, ax in enumerate(axes):
        elements += _elements_of(ax, index, ax)
    elements += _elements_of(fig, -1)
    return {"axes": [_axes_entry(ax) for ax in axes], "elements": elements[:MAX_ELEMENTS]}
