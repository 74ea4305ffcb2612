"""Compatibility shims for model-written plotting code.

Models learnt matplotlib and NumPy from code written against older releases. Each shim maps an API
that matplotlib 3.5-3.11 or NumPy 1.x-2.x removed or renamed onto its replacement, and only where the
running version lacks the old API: where the old call still works (even with a deprecation warning)
it is left alone. A shim is reported (applied(), and one log line) only when the code actually uses
it, not when it is installed. Plain Python 3.9+, matplotlib and NumPy only.

    install(matplotlib, numpy, log)   patch, before the model's code runs (idempotent)
    code_builtins()                   the builtins to exec the model's code with
    applied()                         ids of the shims that fired, in order
    reset()                           forget what fired (e.g. in a child forked after install)
    set_enabled(False)                behave as if never installed (a raw run), True to undo
"""

import builtins
import functools
import inspect
import sys
import warnings

_MARK = "__refigure_compat__"
_fired = []
_installed = []
_state = {"log": None, "numpy": None, "lenient_scalars": False, "enabled": True}


def applied():
    """Ids of the shims the code used, in the order it first used them."""
    return list(_fired)


def reset():
    """Forgets which shims fired; the patches stay in place."""
    del _fired[:]


def set_enabled(enabled):
    """Switches every shim off (the old APIs fail as they would unpatched) or back on."""
    _state["enabled"] = bool(enabled)


def _missing(owner, name):
    what = "module %r" % owner.__name__ if isinstance(owner, type(sys)) else "%r object" % type(owner).__name__
    return AttributeError("%s has no attribute %r" % (what, name))


def _fire(shim_id, message):
    if shim_id in _fired:
        return
    _fired.append(shim_id)
    log = _state["log"]
    if log is not None:
        try:
            log(message)
        except Exception:  # a failing logger must not fail the render
            pass


def _wrap(owner, name, make, shim_id):
    """Replaces owner.name by make(original) unless it is already one of ours."""
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return
    replacement = make(original)
    functools.update_wrapper(replacement, original)
    setattr(replacement, _MARK, True)
    setattr(owner, name, replacement)
    _installed.append(shim_id)


def _add(owner, name, get, shim_id):
    """Gives a class an attribute its instances lack, as a property: get(instance) returns the value."""
    if hasattr(owner, name):
        return

    def getter(self):
        if not _state["enabled"]:
            raise _missing(self, name)
        return get(self)

    setattr(owner, name, property(getter))
    _installed.append(shim_id)


def _add_method(owner, name, function, shim_id):
    _add(owner, name, lambda self: function.__get__(self, type(self)), shim_id)


def _retry_on(errors, marker, fix, shim_id, message):
    """A wrapper maker: call as given; if that fails with `marker` in the error and fix(args, kwargs)
    has a corrected call to offer, fire and make that call instead.

    Used only where the failure is raised before the call has changed anything."""

    def make(original):
        def wrapper(*args, **kwargs):
            try:
                return original(*args, **kwargs)
            except errors as exc:
                fixed = fix(args, kwargs) if _state["enabled"] and marker in str(exc) else None
                if fixed is None:
                    raise
            _fire(shim_id, message)
            return original(*fixed[0], **fixed[1])

        return wrapper

    return make


def _renamed_kwarg(old, new):
    def fix(args, kwargs):
        # pyplot passes the new keyword as None when it is not given.
        if old not in kwargs or kwargs.get(new) is not None:
            return None
        kwargs = dict(kwargs)
        kwargs[new] = kwargs.pop(old)
        return args, kwargs

    return fix


def _module_fallbacks(module, table):
    """Serves names the module lost through its module __getattr__, so a shim fires only when used.

    table: name -> (shim_id, message, resolve) where resolve() returns the replacement."""
    current = module.__dict__.get("__getattr__")
    if getattr(current, _MARK, False):
        return

    def __getattr__(name):
        if current is not None:
            try:
                if name not in table:
                    return current(name)
                with warnings.catch_warnings():
                    # NumPy warns about names it will reuse; here the old meaning is served.
                    warnings.simplefilter("ignore", FutureWarning)
                    return current(name)
            except AttributeError:
                if name not in table or not _state["enabled"]:
                    raise
        elif name not in table or not _state["enabled"]:
            raise _missing(module, name)
        shim_id, message, resolve = table[name]
        _fire(shim_id, message)
        return resolve()

    setattr(__getattr__, _MARK, True)
    module.__getattr__ = __getattr__
    _installed.extend(sorted({entry[0] for entry in table.values()}))


# --- NumPy -------------------------------------------------------------------------------------

def _numpy_names(np):
    # name: (id, NumPy release that removed it, replacement as said to the user, replacement)
    removed = {
        "float": ("numpy-aliases", "1.24", "the builtin float", float),
        "int": ("numpy-aliases", "1.24", "the builtin int", int),
        "bool": ("numpy-aliases", "1.24", "the builtin bool", bool),
        "object": ("numpy-aliases", "1.24", "the builtin object", object),
        "str": ("numpy-aliases", "1.24", "the builtin str", str),
        "complex": ("numpy-aliases", "1.24", "the builtin complex", complex),
        "long": ("numpy-aliases", "1.24", "the builtin int", int),
        "unicode": ("numpy-aliases", "1.24", "the builtin str", str),
        "asscalar": ("numpy-aliases", "1.23", "ndarray.item()", lambda a: np.asarray(a).item()),
        "NaN": ("numpy2-names", "2.0", "np.nan", np.nan),
        "Inf": ("numpy2-names", "2.0", "np.inf", np.inf),
        "Infinity": ("numpy2-names", "2.0", "np.inf", np.inf),
        "infty": ("numpy2-names", "2.0", "np.inf", np.inf),
        "PINF": ("numpy2-names", "2.0", "np.inf", np.inf),
        "NINF": ("numpy2-names", "2.0", "-np.inf", -np.inf),
        "PZERO": ("numpy2-names", "2.0", "0.0", 0.0),
        "NZERO": ("numpy2-names", "2.0", "-0.0", -0.0),
        "float_": ("numpy2-names", "2.0", "np.float64", getattr(np, "float64", None)),
        "complex_": ("numpy2-names", "2.0", "np.complex128", getattr(np, "complex128", None)),
        "cfloat": ("numpy2-names", "2.0", "np.complex128", getattr(np, "complex128", None)),
        "singlecomplex": ("numpy2-names", "2.0", "np.complex64", getattr(np, "complex64", None)),
        "longfloat": ("numpy2-names", "2.0", "np.longdouble", getattr(np, "longdouble", None)),
        "longcomplex": ("numpy2-names", "2.0", "np.clongdouble", getattr(np, "clongdouble", None)),
        "clongfloat": ("numpy2-names", "2.0", "np.clongdouble", getattr(np, "clongdouble", None)),
        "unicode_": ("numpy2-names", "2.0", "np.str_", np.str_),
        "string_": ("numpy2-names", "2.0", "np.bytes_", np.bytes_),
        "bool8": ("numpy2-names", "2.0", "np.bool_", np.bool_),
        "int0": ("numpy2-names", "2.0", "np.intp", np.intp),
        "uint0": ("numpy2-names", "2.0", "np.uintp", np.uintp),
        "object0": ("numpy2-names", "2.0", "np.object_", np.object_),
        "product": ("numpy2-names", "2.0", "np.prod", np.prod),
        "cumproduct": ("numpy2-names", "2.0", "np.cumprod", np.cumprod),
        "alltrue": ("numpy2-names", "2.0", "np.all", np.all),
        "sometrue": ("numpy2-names", "2.0", "np.any", np.any),
        "round_": ("numpy2-names", "2.0", "np.round", np.round),
        "msort": ("numpy2-names", "2.0", "np.sort(a, axis=0)", lambda a: np.sort(a, axis=0)),
        "mat": ("numpy2-names", "2.0", "np.asmatrix", getattr(np, "asmatrix", None)),
        "asfarray": ("numpy2-names", "2.0", "np.asarray with a float dtype", _asfarray(np)),
        "trapz": ("numpy2-names", "2.4", "np.trapezoid", getattr(np, "trapezoid", None)),
        "in1d": ("numpy2-names", "2.4", "np.isin(...).ravel()", lambda *a, **k: np.isin(*a, **k).ravel()),
    }
    table = {}
    for name, (shim_id, release, instead, value) in removed.items():
        if value is None:
            continue
        message = "np.%s was removed in NumPy %s; used %s" % (name, release, instead)
        table[name] = (shim_id, message, (lambda v: lambda: v)(value))
    return table


def _asfarray(np):
    def asfarray(a, dtype=np.float64):
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.inexact):
            dtype = np.dtype(np.float64)
        return np.asarray(a, dtype=dtype)

    return asfarray


def _numpy_refuses_size1(np):
    """True where float() of a one-element 1-D array raises (NumPy 2.4+); before, it only warned."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            float(np.ones(1))
        except TypeError:
            return True
    return False


_SCALAR_MESSAGE = (
    "a one-element array used as a single number raises since NumPy 2.4 (deprecated in 1.25); "
    "used its only element"
)


def _size1(value):
    np = _state["numpy"]
    return isinstance(value, np.ndarray) and value.ndim > 0 and value.size == 1


class _LenientScalarType(type):
    """Metaclass of the float, int and complex that the code sees where NumPy refuses one-element arrays.

    Calling one converts a one-element array as NumPy did before 2.4; anything else goes to the builtin
    type itself, which is what the call returns, and isinstance, issubclass, ==, dtype= and subclassing
    treat it as the builtin type."""

    def __call__(cls, *args, **kwargs):
        base = cls.__dict__.get("_refigure_base")
        if base is None:  # a subclass the code defined
            return type.__call__(cls, *args, **kwargs)
        if len(args) == 1 and not kwargs and _size1(args[0]):
            _fire("numpy-scalar-conversion", _SCALAR_MESSAGE)
            args = (_state["numpy"].asarray(args[0]).reshape(()),)
        return base(*args, **kwargs)

    def __instancecheck__(cls, obj):
        base = cls.__dict__.get("_refigure_base")
        return isinstance(obj, base) if base is not None else type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub):
        base = cls.__dict__.get("_refigure_base")
        return issubclass(sub, base) if base is not None else type.__subclasscheck__(cls, sub)

    def __eq__(cls, other):
        base = cls.__dict__.get("_refigure_base")
        return other is cls or (base is not None and other is base)

    def __ne__(cls, other):
        return not cls.__eq__(other)

    def __hash__(cls):
        base = cls.__dict__.get("_refigure_base")
        return hash(base) if base is not None else type.__hash__(cls)


def _lenient_type(base, np):
    namespace = {
        "_refigure_base": base,
        "__module__": "builtins",
        "__qualname__": base.__qualname__,
        "__doc__": base.__doc__,
        "__slots__": (),
        # NumPy reads a class's dtype attribute: dtype=float must still mean float64.
        "dtype": np.dtype(base),
    }
    return _LenientScalarType(base.__name__, (base,), namespace)


def code_builtins():
    """The builtins to exec the model's code with (its globals' __builtins__), after install().

    Where NumPy refuses one-element arrays as numbers, float, int and complex there accept them as
    before; elsewhere this is the builtins module itself."""
    if not (_state["lenient_scalars"] and _state["enabled"]):
        return builtins
    types = _state.get("lenient_types")
    if types is None:
        types = _state["lenient_types"] = [_lenient_type(base, _state["numpy"]) for base in (float, int, complex)]
    overlay = dict(vars(builtins))
    overlay.update((t.__name__, t) for t in types)
    return overlay


def _install_numpy(np):
    _module_fallbacks(np, _numpy_names(np))
    if _numpy_refuses_size1(np):
        _state["lenient_scalars"] = True
        if "numpy-scalar-conversion" not in _installed:
            _installed.append("numpy-scalar-conversion")


# --- matplotlib ------------------------------------------------------------------------------

def _install_boxplot(mpl, plt):
    message = "boxplot(labels=) was renamed tick_labels in matplotlib 3.9 and removed in 3.11; passed as tick_labels"
    make = _retry_on(TypeError, "'labels'", _renamed_kwarg("labels", "tick_labels"), "boxplot-labels", message)
    _wrap(mpl.axes.Axes, "boxplot", make, "boxplot-labels")
    _wrap(plt, "boxplot", make, "boxplot-labels")


def _install_grid(mpl):
    message = "grid(b=) was renamed grid(visible=) in matplotlib 3.5 and the old name later removed; passed as visible"
    make = _retry_on(ValueError, "grid_b", _renamed_kwarg("b", "visible"), "grid-b", message)
    _wrap(mpl.axes.Axes, "grid", make, "grid-b")


def _install_hist(mpl):
    # The old keyword fails only once the bars exist, so the rename is decided up front.
    hist = mpl.axes.Axes.hist
    if getattr(hist, _MARK, False) or "normed" in inspect.signature(hist).parameters:
        return

    def make(original):
        def hist(*args, **kwargs):
            if "normed" in kwargs and _state["enabled"]:
                _fire("hist-normed", "hist(normed=) was removed in matplotlib 3.1; passed as density")
                normed = kwargs.pop("normed")
                # pyplot.hist passes density=False when it is not given.
                kwargs["density"] = kwargs.get("density") or normed
            return original(*args, **kwargs)

        return hist

    _wrap(mpl.axes.Axes, "hist", make, "hist-normed")


def _install_cmaps(mpl, plt):
    colors = mpl.colors

    def get_cmap(name=None, lut=None):
        if name is None:
            name = mpl.rcParams["image.cmap"]
        if isinstance(name, colors.Colormap):
            return name
        cmap = mpl.colormaps[name]
        return cmap if lut is None else cmap.resampled(lut)

    def register_cmap(name=None, cmap=None, *, override_builtin=False):
        if name is None:
            name = cmap.name
        mpl.colormaps.register(cmap, name=name, force=True)

    def unregister_cmap(name):
        return mpl.colormaps.unregister(name)

    get_message = "matplotlib.cm.get_cmap was removed in matplotlib 3.11 (deprecated in 3.7); used matplotlib.colormaps[name]"
    register_message = "%s was removed in matplotlib 3.9 (deprecated in 3.7); used matplotlib.colormaps.%s"
    _module_fallbacks(mpl.cm, {
        "get_cmap": ("cm-get_cmap", get_message, lambda: get_cmap),
        "register_cmap": ("cm-register_cmap", register_message % ("matplotlib.cm.register_cmap", "register"), lambda: register_cmap),
        "unregister_cmap": ("cm-register_cmap", register_message % ("matplotlib.cm.unregister_cmap", "unregister"), lambda: unregister_cmap),
    })
    _module_fallbacks(plt, {
        "register_cmap": ("cm-register_cmap", register_message % ("pyplot.register_cmap", "register"), lambda: register_cmap),
        "plot_date": ("plot_date", _PLOT_DATE_MESSAGE, lambda: _pyplot_plot_date(plt)),
    })


def _install_colorbar(mpl):
    message = (
        "colorbar() of a mappable that is in no Axes needs ax= or cax= since matplotlib 3.8 "
        "(deprecated in 3.6); used the current Axes as before"
    )

    def fix(args, kwargs):
        if len(args) > 2 or kwargs.get("ax") is not None or kwargs.get("cax") is not None:
            return None
        mappable = args[1] if len(args) > 1 else kwargs.get("mappable")
        if getattr(mappable, "axes", None) is not None:
            return None
        return args, dict(kwargs, ax=args[0].gca())

    make = _retry_on(ValueError, "Unable to determine Axes", fix, "colorbar-no-axes", message)
    _wrap(mpl.figure.FigureBase, "colorbar", make, "colorbar-no-axes")


def _install_styles(mpl):
    style = mpl.style
    use = style.use
    home = sys.modules.get(getattr(use, "__module__", ""), style)

    def renamed(name):
        if isinstance(name, str) and name.startswith("seaborn") and not name.startswith("seaborn-v0_8"):
            new = "seaborn-v0_8" + name[len("seaborn"):]
            if new in style.library:
                return new
        return name

    def fix(args, kwargs):
        given = args[0] if args else kwargs.get("style")
        names = list(given) if isinstance(given, (list, tuple)) else [given]
        new = [renamed(name) for name in names]
        if new == names:
            return None
        return (new if isinstance(given, (list, tuple)) else new[0],), {}

    message = (
        "the 'seaborn' styles were renamed 'seaborn-v0_8' in matplotlib 3.6 and the old names removed "
        "in 3.8; used the new names"
    )
    make = _retry_on(OSError, "not a valid", fix, "style-seaborn", message)
    # context() calls the use() of its own module, so both names are patched.
    _wrap(home, "use", make, "style-seaborn")
    if style is not home and not getattr(style.use, _MARK, False):
        style.use = home.use


def _install_lines(mpl):
    message = (
        "Line2D.set_data with single numbers needs sequences since matplotlib 3.9 (deprecated in 3.7); "
        "wrapped each number in a list"
    )

    def fix(args, kwargs):
        return ((args[0], [args[1]]), {}) if len(args) == 2 and not kwargs else None

    make = _retry_on(RuntimeError, "must be a sequence", fix, "line-set_data-scalars", message)
    _wrap(mpl.lines.Line2D, "set_xdata", make, "line-set_data-scalars")
    _wrap(mpl.lines.Line2D, "set_ydata", make, "line-set_data-scalars")


def _install_tick_label(mpl):
    def label(self):
        _fire("tick-label", "Tick.label was removed in matplotlib 3.8; used Tick.label1")
        return self.label1

    _add(mpl.axis.Tick, "label", label, "tick-label")


def _install_gca(mpl, plt):
    message = "gca() with keyword arguments was removed in matplotlib 3.6; used add_subplot(...) as before"

    def make_figure_gca(original):
        def gca(self, **kwargs):
            if not kwargs:
                return original(self)
            try:
                return original(self, **kwargs)
            except TypeError as exc:
                if not _state["enabled"] or "unexpected keyword argument" not in str(exc):
                    raise
            _fire("gca-projection", message)
            wanted = "polar" if kwargs.get("polar") else kwargs.get("projection")
            if self.axes:
                current = original(self)
                if wanted is None or getattr(current, "name", None) == wanted:
                    rest = {k: v for k, v in kwargs.items() if k not in ("projection", "polar")}
                    if rest:
                        current.set(**rest)
                    return current
            return self.add_subplot(1, 1, 1, **kwargs)

        return gca

    def make_pyplot_gca(original):
        def gca(**kwargs):
            if not kwargs:
                return original()
            try:
                return original(**kwargs)
            except TypeError as exc:
                if not _state["enabled"] or "unexpected keyword argument" not in str(exc):
                    raise
            return plt.gcf().gca(**kwargs)

        return gca

    _wrap(mpl.figure.FigureBase, "gca", make_figure_gca, "gca-projection")
    _wrap(plt, "gca", make_pyplot_gca, "gca-projection")


def _install_window_title(mpl):
    message = "FigureCanvas.set_window_title was removed in matplotlib 3.6; set it on the figure manager"
    canvas = mpl.backend_bases.FigureCanvasBase

    def set_window_title(self, title):
        _fire("canvas-window_title", message)
        manager = getattr(self, "manager", None)
        if manager is not None:
            manager.set_window_title(title)

    def get_window_title(self):
        _fire("canvas-window_title", message)
        manager = getattr(self, "manager", None)
        return manager.get_window_title() if manager is not None else ""

    _add_method(canvas, "set_window_title", set_window_title, "canvas-window_title")
    _add_method(canvas, "get_window_title", get_window_title, "canvas-window_title")


_PLOT_DATE_MESSAGE = "plot_date was removed in matplotlib 3.11 (deprecated in 3.9); drew with plot() on a date axis"


def _axes_plot_date(self, x, y, fmt="o", tz=None, xdate=True, ydate=False, **kwargs):
    _fire("plot_date", _PLOT_DATE_MESSAGE)
    if xdate:
        self.xaxis_date(tz)
    if ydate:
        self.yaxis_date(tz)
    return self.plot(x, y, fmt, **kwargs)


def _pyplot_plot_date(plt):
    def plot_date(x, y, fmt="o", tz=None, xdate=True, ydate=False, **kwargs):
        return plt.gca().plot_date(x, y, fmt=fmt, tz=tz, xdate=xdate, ydate=ydate, **kwargs)

    return plot_date


def _install_plot_date(mpl):
    _add_method(mpl.axes.Axes, "plot_date", _axes_plot_date, "plot_date")


def _install_text_positions(mpl):
    if not _state["lenient_scalars"]:
        return

    def make(original):
        def convert(self, x):
            value = original(self, x)
            if _state["enabled"] and _size1(value):
                _fire("numpy-scalar-conversion", _SCALAR_MESSAGE)
                return _state["numpy"].asarray(value).reshape(())
            return value

        return convert

    _wrap(mpl.text.Text, "convert_xunits", make, "numpy-scalar-conversion")
    _wrap(mpl.text.Text, "convert_yunits", make, "numpy-scalar-conversion")


def _install_axes3d(mpl):
    try:
        from mpl_toolkits.mplot3d import axes3d
    except Exception:  # a broken optional toolkit leaves 3-D code failing as it would anyway
        return
    Axes3D = axes3d.Axes3D

    def axis_getter(letter):
        def get(self):
            _fire("axes3d-w_axis", "Axes3D.w_%saxis was removed in matplotlib 3.8; used Axes3D.%saxis" % (letter, letter))
            return getattr(self, letter + "axis")

        return get

    for letter in "xyz":
        _add(Axes3D, "w_%saxis" % letter, axis_getter(letter), "axes3d-w_axis")

    def make(original):
        def __init__(self, fig, *args, **kwargs):
            original(self, fig, *args, **kwargs)
            if not _state["enabled"] or "auto_add_to_figure" in kwargs or self in fig.axes:
                return
            # Axes that matplotlib itself creates (add_subplot, add_axes, toolkits) are added by the caller.
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller.split(".")[0] in ("matplotlib", "mpl_toolkits"):
                return
            _fire("axes3d-auto-add", "Axes3D(fig) no longer adds itself to the figure since matplotlib 3.6; added it")
            fig.add_axes(self)

        return __init__

    _wrap(Axes3D, "__init__", make, "axes3d-auto-add")


def install(matplotlib, numpy, log=None):
    """Patches matplotlib and NumPy where they lack old APIs the model's code may use.

    Call after matplotlib, pyplot and numpy are imported and before the code runs. Idempotent: a
    second call patches nothing again. log(message) is called once for each shim when it first fires.
    Returns the ids of the shims newly installed by this call (not fired: see applied())."""
    _state["log"] = log
    _state["numpy"] = numpy
    before = len(_installed)
    import matplotlib.axes
    import matplotlib.axis
    import matplotlib.backend_bases
    import matplotlib.cm
    import matplotlib.colors
    import matplotlib.figure
    import matplotlib.lines
    import matplotlib.pyplot as plt
    import matplotlib.style
    import matplotlib.text

    steps = (
        lambda: _install_numpy(numpy),
        lambda: _install_boxplot(matplotlib, plt),
        lambda: _install_grid(matplotlib),
        lambda: _install_hist(matplotlib),
        lambda: _install_cmaps(matplotlib, plt),
        lambda: _install_colorbar(matplotlib),
        lambda: _install_styles(matplotlib),
        lambda: _install_lines(matplotlib),
        lambda: _install_tick_label(matplotlib),
        lambda: _install_gca(matplotlib, plt),
        lambda: _install_window_title(matplotlib),
        lambda: _install_plot_date(matplotlib),
        lambda: _install_text_positions(matplotlib),
        lambda: _install_axes3d(matplotlib),
    )
    for step in steps:
        try:
            step()
        except Exception:  # an unexpected matplotlib layout costs that shim only, never the render
            pass
    return list(dict.fromkeys(_installed[before:]))
