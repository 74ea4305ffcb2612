"""The text a matplotlib figure shows, read exactly from its artists, with boxes in the saved image's pixels.

Every Text artist that a draw really paints is recorded (tick labels inside the view, titles, axis labels,
legend entries, annotations, figure texts, table cells, 3-D labels), so hidden, empty, clipped-away and
off-view texts are left out. Mathtext is turned into what a reader sees: ``$30^\\circ$`` -> ``30°``,
``$\\theta$`` -> ``θ``, ``$x^2$`` -> ``x²``, ``$\\frac{1}{2}$`` -> ``1/2``.

Two ways in, both working on matplotlib 3.6 through 3.11:

- ``figure_texts(fig, out_width, out_height)`` draws the figure without rasterising it and maps the boxes
  as if the whole figure were saved and then fitted into an ``out_width`` x ``out_height`` image
  (scaled keeping the aspect ratio, centred on white: the render worker's ``fit_to_box``).
- ``with recording_texts() as rec: fig.savefig(...)`` records during the real save (no extra draw, and
  ``bbox_inches="tight"`` is honoured because the save draws into the cropped canvas); then
  ``rec.items(out_width, out_height)`` maps them the same way.

Each item is ``{"text", "box": [x, y, w, h], "rotation", "fontsize"}``: box in output pixels with y from
the top, rotation in degrees counter-clockwise, font size in points.
"""

import contextlib
import functools
import re

__all__ = ["figure_texts", "recording_texts", "reader_text"]


# ---------------------------------------------------------------------------------------------
# Mathtext as a reader sees it.

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "varpi": "π", "rho": "ρ", "varrho": "ρ", "sigma": "σ", "varsigma": "ς", "tau": "τ",
    "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ",
    "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "circ": "°", "degree": "°", "prime": "′", "pm": "±", "mp": "∓", "times": "×", "cdot": "·", "div": "÷",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼",
    "simeq": "≃", "equiv": "≡", "propto": "∝", "infty": "∞", "partial": "∂", "nabla": "∇", "angle": "∠",
    "measuredangle": "∡", "triangle": "△", "perp": "⊥", "parallel": "∥", "cong": "≅", "sum": "∑", "prod": "∏",
    "int": "∫", "oint": "∮", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "emptyset": "∅", "forall": "∀", "exists": "∃", "neg": "¬", "wedge": "∧", "vee": "∨",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "gets": "←", "leftrightarrow": "↔", "Rightarrow": "⇒",
    "Leftarrow": "⇐", "Leftrightarrow": "⇔", "uparrow": "↑", "downarrow": "↓", "mapsto": "↦",
    "cdots": "⋯", "ldots": "…", "dots": "…", "hbar": "ħ", "ell": "ℓ", "Re": "ℜ", "Im": "ℑ", "aleph": "ℵ",
    "sqrt": "√", "star": "⋆", "ast": "∗", "bullet": "•", "%": "%", "$": "$", "#": "#", "&": "&", "_": "_",
    "{": "{", "}": "}", "lbrace": "{", "rbrace": "}", "langle": "⟨", "rangle": "⟩", "vert": "|", "mid": "|",
    "|": "‖", "backslash": "\\", "AA": "Å", "minus": "−", "sin": "sin", "cos": "cos", "tan": "tan",
    "log": "log", "ln": "ln", "exp": "exp", "lim": "lim", "max": "max", "min": "min", "det": "det",
}
_SPACES = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": " ", "qquad": " ", "thinspace": " "}
_WRAPPERS = {
    "mathrm", "mathit", "mathbf", "mathsf", "mathtt", "mathcal", "mathbb", "mathfrak", "mathdefault",
    "text", "textrm", "textit", "textbf", "operatorname", "boldsymbol", "bm", "mbox", "hat", "bar", "vec",
    "tilde", "dot", "ddot", "overline", "underline", "widehat", "widetilde", "overrightarrow",
}
_DROPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "displaystyle", "textstyle", "limits", "nolimits"}
_SUPER = dict(zip("0123456789+-−=()ni°", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱ°"))
_SUB = dict(zip("0123456789+-−=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎"))


def _group(s, i):
    """The argument starting at s[i]: a {braced group}, a \\command or one character; returns (source, next index)."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth, j = 0, i
        while j < len(s):
            if s[j] == "\\":
                j += 2
                continue
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    return s[i + 1:j], j + 1
            j += 1
        return s[i + 1:], len(s)
    if s[i] == "\\":
        m = re.match(r"\\([A-Za-z]+|.)", s[i:])
        return m.group(0), i + len(m.group(0))
    return s[i], i + 1


def _math(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", s[i:])
            name = m.group(1)
            i += len(m.group(0))
            if name in ("frac", "dfrac", "tfrac", "cfrac"):
                num, i = _group(s, i)
                den, i = _group(s, i)
                a, b = _math(num), _math(den)
                wrap = lambda t: t if len(t) <= 1 or re.fullmatch(r"[\w.]+", t) else "(" + t + ")"
                out.append(wrap(a) + "/" + wrap(b))
            elif name == "sqrt":
                if i < len(s) and s[i] == "[":
                    j = s.find("]", i)
                    i = j + 1 if j > 0 else len(s)
                arg, i = _group(s, i)
                inner = _math(arg)
                out.append("√" + (inner if len(inner) <= 1 else "(" + inner + ")"))
            elif name in _WRAPPERS:
                arg, i = _group(s, i)
                out.append(_math(arg))
            elif name in _DROPPED:
                pass
            elif name in _SPACES:
                out.append(_SPACES[name])
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            else:
                out.append(name)
        elif c in "^_":
            arg, i = _group(s, i + 1)
            inner = _math(arg)
            table = _SUPER if c == "^" else _SUB
            out.append("".join(table.get(ch, ch) for ch in inner))
        elif c in "{}":
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        elif c == "-":
            out.append("−")
            i += 1
        elif c == "'":
            out.append("′")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def reader_text(s):
    """A Text artist's string as a reader sees it: mathtext between unescaped $ signs rendered as Unicode."""
    s = str(s)
    parts = re.split(r"(?<!\\)\$", s)
    if len(parts) < 3:
        return s.replace("\\$", "$")
    pieces = []
    for k, part in enumerate(parts):
        if k % 2 == 1 and k < len(parts) - 1:
            pieces.append(_math(part))
        else:
            pieces.append(part.replace("\\$", "$"))
    text = "".join(pieces)
    return re.sub(r"[ \t]+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Recording what a draw paints.


class TextRecording:
    """The texts painted by the last full draw of a figure, in that draw's canvas pixels."""

    def __init__(self):
        self.records = []
        self.canvas_size = None
        self._pass = []

    def start_pass(self, renderer, figure):
        width = getattr(renderer, "width", None)
        height = getattr(renderer, "height", None)
        if width is None or height is None:
            width, height = figure.bbox.width, figure.bbox.height
        self._pass = []
        self.records = self._pass
        self.canvas_size = (float(width), float(height))

    def add(self, text, renderer):
        raw = text.get_text()
        if not text.get_visible() or raw is None or not str(raw).strip():
            return
        if text.get_alpha() == 0:
            return
        check = getattr(text, "_check_xy", None)
        if check is not None:
            try:
                if not check(renderer):
                    return
            except Exception:
                pass
        try:
            extent = text.get_window_extent(renderer)
        except Exception:
            return
        if not (extent.width > 0 and extent.height > 0):
            return
        if text.get_clip_on() and text.clipbox is not None:
            clip = text.clipbox
            if extent.x1 < clip.x0 or extent.x0 > clip.x1 or extent.y1 < clip.y0 or extent.y0 > clip.y1:
                return
        string = reader_text(raw)
        if not string:
            return
        self._pass.append((string, (extent.x0, extent.y0, extent.x1, extent.y1), float(text.get_rotation()), float(text.get_fontsize())))

    def items(self, out_width, out_height):
        """The recorded texts mapped into an out_width x out_height image the canvas was fitted into."""
        if not self.canvas_size:
            return []
        cw, ch = self.canvas_size
        scale = min(out_width / cw, out_height / ch)
        if round(cw) == out_width and round(ch) == out_height:
            scale = 1.0
        ox = (out_width - max(1, round(cw * scale))) // 2
        oy = (out_height - max(1, round(ch * scale))) // 2
        result = []
        for string, (x0, y0, x1, y1), rotation, fontsize in self.records:
            # Off the canvas, nothing of it is seen.
            if x1 <= 0 or y1 <= 0 or x0 >= cw or y0 >= ch:
                continue
            lines = string.split("\n") if "\n" in string else [string]
            lines = [line.strip() for line in lines]
            n = len(lines)
            for k, line in enumerate(lines):
                if not line:
                    continue
                # A multi-line text is split into its lines, sharing the box evenly (upright text only).
                if n > 1 and abs(rotation % 180) < 1:
                    top = y1 - (y1 - y0) * k / n
                    bottom = y1 - (y1 - y0) * (k + 1) / n
                    lx0, ly0, lx1, ly1 = x0, bottom, x1, top
                else:
                    lx0, ly0, lx1, ly1 = x0, y0, x1, y1
                    if n > 1:
                        line = " ".join(l for l in lines if l)
                box = [
                    ox + lx0 * scale,
                    oy + (ch - ly1) * scale,
                    (lx1 - lx0) * scale,
                    (ly1 - ly0) * scale,
                ]
                result.append({
                    "text": line,
                    "box": [round(v, 1) for v in box],
                    "rotation": round(rotation, 1),
                    "fontsize": round(fontsize, 2),
                })
                if n > 1 and not abs(rotation % 180) < 1:
                    break
        return result


@contextlib.contextmanager
def recording_texts():
    """Records, during the draws inside the block, which texts are painted and where (the last draw wins)."""
    import matplotlib.text as mtext
    from matplotlib.figure import Figure

    recording = TextRecording()
    text_draw = mtext.Text.draw
    figure_draw = Figure.draw

    @functools.wraps(text_draw)
    def draw_text(self, renderer, *args, **kwargs):
        try:
            recording.add(self, renderer)
        except Exception:
            pass
        return text_draw(self, renderer, *args, **kwargs)

    @functools.wraps(figure_draw)
    def draw_figure(self, renderer, *args, **kwargs):
        recording.start_pass(renderer, self)
        return figure_draw(self, renderer, *args, **kwargs)

    # Subclasses (Annotation, Text3D, ...) reach Text.draw through the class attribute, so one patch sees all.
    mtext.Text.draw = draw_text
    Figure.draw = draw_figure
    try:
        yield recording
    finally:
        mtext.Text.draw = text_draw
        Figure.draw = figure_draw


def figure_texts(fig, out_width, out_height):
    """Every visible text of `fig` as saved whole (no tight crop) and fitted into out_width x out_height."""
    with recording_texts() as recording:
        if hasattr(fig, "draw_without_rendering"):
            fig.draw_without_rendering()
        else:
            fig.canvas.draw()
    return recording.items(int(out_width), int(out_height))
