"""Refigure's fidelity figures: how close a rendered figure is to the original, plus a difference heat map.

Plain Python 3.9+, numpy and Pillow only; every step is vectorised numpy so a
2-megapixel pair is compared (figures and diff PNG) in well under 100 ms.

Definitions
-----------
Both images are RGB at the same pixel size (``compare_files`` fits the rendered
image into the original's box, letterboxed on white when the aspect differs).

Working size
    The figures are computed on copies reduced by an integer area-averaging
    factor so that the long side is at most 512 px (smaller images are used as
    they are). This makes the figures cheap and tolerant of sub-pixel and
    anti-aliasing differences. "px" below means working-size pixels.

Background and ink
    The background colour of each image is the per-channel median of its
    1-pixel border. A pixel is *ink* when any channel differs from that
    background by more than 24 (of 255). "Ink" is what is drawn: lines, text,
    markers, filled areas.

``ssim``
    Grayscale SSIM (Wang et al. 2004) on the luma (0.299 R + 0.587 G + 0.114 B),
    further area-averaged to a long side of at most 256 px (the usual SSIM
    practice of downsampling large images first): 7x7 uniform window,
    C1 = (0.01*255)^2, C2 = (0.03*255)^2, mean of the SSIM map over the whole
    image. In [0, 1] (negative local values are clipped to 0). Note that SSIM
    stays high for a line drawing against a blank page: most windows are
    equally empty. ``fidelity`` uses an ink-restricted variant instead.

``pixelMatch``
    Share of pixels whose RGB Euclidean distance is at most 48 (of 441),
    counted only over the union of the ink of both images, so that line
    drawings on white do not score high merely for sharing white background.
    1 when neither image has ink.

``edgeF1``
    Edge maps: luma Sobel gradient magnitude above 64, united with the outline
    of the ink mask (which catches edges between colours of equal luma).
    Recall is the share of the original's edge pixels within 2 px of a rendered
    edge pixel, precision the converse; ``edgeF1`` is their harmonic mean.
    1 when neither image has edges, 0 when only one has.

``colorDistance``
    On the working images halved once more: for every ink pixel of either
    image, the CIE76 colour difference (Lab Delta E, sRGB D65) to the closest
    colour within 1 px in the other image; the mean over those pixels divided
    by 100 and clipped to [0, 1]. 0 means the same colours.

``fidelity``
    ``0.45*edgeAgreement + 0.30*ssimInk + 0.10*pixelMatch + 0.15*(1 - colorDistance)``
    where ``edgeAgreement`` is the mean of the edge F1 at the tolerances 2, 4
    and 8 px (so a small offset costs a little and a large one a lot, instead
    of a cliff at one tolerance), and ``ssimInk`` is the mean SSIM map at a
    long side of about 128 px, over where either image has ink (dilated by
    3 px; the whole image when there is no ink), so structure is judged where
    something is drawn rather than over empty background. An exact re-render
    scores 1; a blank image against a drawing scores low (below 0.35 on line
    drawings); two blank images score 1.

Difference heat map (``diff_path``)
    A PNG at the original's pixel size: white where both images show background,
    light gray where both have ink of a similar colour (a faint copy of the
    original, for orientation), red where only the original has ink (missing
    from the render), blue where only the render has ink (extra), orange where
    both have ink of clearly different colours.

Usage: ``python3 refigure_compare.py ORIGINAL.png RENDERED.png [--diff DIFF.png]``
prints the figures as JSON.
"""

import json
import os
import sys
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image

# Run on its own, this file finds its sibling modules beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refigure_image import fit_to, load_rgb, write_new  # noqa: E402

WORKING_LONG_SIDE = 512
INK_THRESHOLD = 24
MATCH_TOLERANCE = 48.0
EDGE_THRESHOLD = 64.0
EDGE_TOLERANCES_PX = (2, 4, 8)
COLOR_TOLERANCE_PX = 1
INK_WINDOW_PX = 3
COARSE_LONG_SIDE = 128
SSIM_RADIUS = 3
SSIM_LONG_SIDE = 256
COLOR_SHRINK = 2
WEIGHTS = {"edges": 0.45, "ssimInk": 0.30, "pixelMatch": 0.10, "color": 0.15}

_SSIM_C1 = (0.01 * 255) ** 2
_SSIM_C2 = (0.03 * 255) ** 2

try:
    _NEAREST = Image.Resampling.NEAREST
except AttributeError:  # Pillow < 9.1
    _NEAREST = Image.NEAREST


def _as_rgb(array: np.ndarray) -> np.ndarray:
    """Accept gray, RGB or RGBA arrays; alpha is composited on white."""
    a = np.asarray(array)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[:, :, 3:4].astype(np.float32) / 255.0
        rgb = a[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
        return (rgb + 0.5).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 3:
        return a
    raise ValueError("expected an HxW, HxWx3 or HxWx4 image array, got shape %r" % (a.shape,))


def _working(image: Image.Image) -> np.ndarray:
    """Channel-planar float32 (3, h, w) copy, area-averaged so the long side is at most the working size."""
    factor = -(-max(image.size) // WORKING_LONG_SIDE)
    if factor > 1:
        image = image.reduce(factor)
    return np.stack([np.asarray(band) for band in image.split()]).astype(np.float32)


def _shrink(planes: np.ndarray, factor: int) -> np.ndarray:
    """Area-average the last two axes by an integer factor (the edge remainder is dropped)."""
    if factor <= 1:
        return planes
    h, w = planes.shape[-2] // factor, planes.shape[-1] // factor
    # Summing strided slices is several times faster than reshape(...).mean() for small factors.
    total = planes[..., 0:h * factor:factor, 0:w * factor:factor].astype(np.float32)
    for dy in range(factor):
        for dx in range(factor):
            if dy or dx:
                total += planes[..., dy:h * factor:factor, dx:w * factor:factor]
    total *= 1.0 / (factor * factor)
    return total


def _background(planes: np.ndarray) -> np.ndarray:
    border = np.concatenate([planes[:, 0, :], planes[:, -1, :], planes[:, :, 0], planes[:, :, -1]], axis=1)
    return np.median(border, axis=1).astype(np.float32)


def _ink(planes: np.ndarray, background: np.ndarray) -> np.ndarray:
    d = planes - background[:, None, None]
    np.abs(d, out=d)
    return np.maximum(np.maximum(d[0], d[1]), d[2]) > INK_THRESHOLD


def _gray(planes: np.ndarray) -> np.ndarray:
    return 0.299 * planes[0] + 0.587 * planes[1] + 0.114 * planes[2]


def _box_mean(stack: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)-square window with edge replication, as separable sums of shifted slices."""
    k = 2 * radius + 1
    _, h, w = stack.shape
    p = np.pad(stack, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    rows = p[:, :, 0:w].copy()
    for i in range(1, k):
        rows += p[:, :, i:i + w]
    out = rows[:, 0:h].copy()
    for i in range(1, k):
        out += rows[:, i:i + h]
    out *= 1.0 / (k * k)
    return out


def _ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mu_a, mu_b, aa, bb, ab = _box_mean(np.stack([a, b, a * a, b * b, a * b]), SSIM_RADIUS)
    var_a = aa - mu_a * mu_a
    var_b = bb - mu_b * mu_b
    cov = ab - mu_a * mu_b
    num = (2 * mu_a * mu_b + _SSIM_C1) * (2 * cov + _SSIM_C2)
    den = (mu_a * mu_a + mu_b * mu_b + _SSIM_C1) * (var_a + var_b + _SSIM_C2)
    return np.clip(num / den, 0.0, 1.0)


def _coarse_ssim(gray_a: np.ndarray, gray_b: np.ndarray, window: np.ndarray) -> float:
    """Mean SSIM at about a quarter of the working size, over where something is drawn."""
    factor = max(1, max(gray_a.shape) // COARSE_LONG_SIDE)
    a, b = _shrink(gray_a, factor), _shrink(gray_b, factor)
    if min(a.shape) < 2:
        a, b, factor = gray_a, gray_b, 1
    smap = _ssim_map(a, b)
    mask = _shrink(window.astype(np.float32), factor) > 0
    return float(smap[mask].mean()) if mask.any() else float(smap.mean())


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary dilation by a (2r+1)-square, separable."""
    if radius <= 0:
        return mask
    h, w = mask.shape
    padded = np.pad(mask, radius, mode="constant")
    rows = padded[:, 0:w].copy()
    for i in range(1, 2 * radius + 1):
        rows |= padded[:, i:i + w]
    out = rows[0:h].copy()
    for i in range(1, 2 * radius + 1):
        out |= rows[i:i + h]
    return out


def _edges(gray: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Sobel magnitude above a threshold, plus the outline of the ink (catches edges between equal grays)."""
    p = np.pad(gray, 1, mode="edge")
    sx = p[:, 2:] - p[:, :-2]
    gx = sx[:-2] + 2 * sx[1:-1] + sx[2:]
    sy = p[2:, :] - p[:-2, :]
    gy = sy[:, :-2] + 2 * sy[:, 1:-1] + sy[:, 2:]
    strong = gx * gx + gy * gy > EDGE_THRESHOLD * EDGE_THRESHOLD
    return strong | (ink & ~_erode(ink))


def _erode(mask: np.ndarray) -> np.ndarray:
    return ~_dilate(~mask, 1)


def _edge_scores(edges_a: np.ndarray, edges_b: np.ndarray) -> Tuple[float, float]:
    """F1 of the two edge maps at the first tolerance, and its mean over all tolerances."""
    na, nb = int(edges_a.sum()), int(edges_b.sum())
    if na == 0 and nb == 0:
        return 1.0, 1.0
    if na == 0 or nb == 0:
        return 0.0, 0.0
    scores = []
    near_a, near_b, reach = edges_a, edges_b, 0
    for tolerance in EDGE_TOLERANCES_PX:
        near_a = _dilate(near_a, tolerance - reach)
        near_b = _dilate(near_b, tolerance - reach)
        reach = tolerance
        recall = float(np.count_nonzero(edges_a & near_b)) / na
        precision = float(np.count_nonzero(edges_b & near_a)) / nb
        scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return scores[0], float(np.mean(scores))


_SRGB_LINEAR = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)
# sRGB (D65) to XYZ, each row already divided by the white point's component.
_RGB_TO_XYZN = (
    np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]],
        dtype=np.float32,
    )
    / np.array([[0.95047], [1.0], [1.08883]], dtype=np.float32)
)


def _lab(planes: np.ndarray) -> np.ndarray:
    r, g, b = _SRGB_LINEAR[np.clip(planes + 0.5, 0, 255).astype(np.uint8)]
    m = _RGB_TO_XYZN
    fx, fy, fz = (_lab_f(m[i, 0] * r + m[i, 1] * g + m[i, 2] * b) for i in range(3))
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)])


def _lab_f(t: np.ndarray) -> np.ndarray:
    return np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)


def _nearest_delta_e(lab_from: np.ndarray, lab_to: np.ndarray) -> np.ndarray:
    """Per pixel, the Delta E to the closest colour within the tolerance in the other image."""
    r = COLOR_TOLERANCE_PX
    _, h, w = lab_from.shape
    padded = np.pad(lab_to, ((0, 0), (r, r), (r, r)), mode="edge")
    best = np.full((h, w), np.inf, dtype=np.float32)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            d = lab_from - padded[:, dy:dy + h, dx:dx + w]
            np.minimum(best, (d * d).sum(axis=0), out=best)
    return np.sqrt(best)


def _color_distance(a: np.ndarray, b: np.ndarray, bg_a: np.ndarray, bg_b: np.ndarray) -> float:
    a, b = _shrink(a, COLOR_SHRINK), _shrink(b, COLOR_SHRINK)
    ink_a, ink_b = _ink(a, bg_a), _ink(b, bg_b)
    n = int(ink_a.sum()) + int(ink_b.sum())
    if n == 0:
        return 0.0
    lab_a, lab_b = _lab(a), _lab(b)
    total = float(_nearest_delta_e(lab_a, lab_b)[ink_a].sum()) + float(_nearest_delta_e(lab_b, lab_a)[ink_b].sum())
    return min(1.0, total / n / 100.0)


class _Working:
    """What the figures were computed from, reused for the difference map."""

    def __init__(self, bg_a: np.ndarray, bg_b: np.ndarray, recoloured: np.ndarray, only_a: np.ndarray, only_b: np.ndarray) -> None:
        self.bg_a = bg_a
        self.bg_b = bg_b
        self.recoloured = recoloured
        self.only_a = only_a
        self.only_b = only_b


def _figures(image_a: Image.Image, image_b: Image.Image) -> Tuple[Dict[str, float], _Working]:
    a, b = _working(image_a), _working(image_b)
    bg_a, bg_b = _background(a), _background(b)
    ink_a, ink_b = _ink(a, bg_a), _ink(b, bg_b)
    union = ink_a | ink_b

    gray_a, gray_b = _gray(a), _gray(b)
    ssim_factor = -(-max(gray_a.shape) // SSIM_LONG_SIDE)
    ssim = float(_ssim_map(_shrink(gray_a, ssim_factor), _shrink(gray_b, ssim_factor)).mean())
    ssim_ink = _coarse_ssim(gray_a, gray_b, _dilate(union, INK_WINDOW_PX))

    d = a - b
    far = (d * d).sum(axis=0) > MATCH_TOLERANCE ** 2
    n_union = int(union.sum())
    pixel_match = 1.0 if n_union == 0 else 1.0 - float(np.count_nonzero(far & union)) / n_union

    edge_f1, edge_graded = _edge_scores(_edges(gray_a, ink_a), _edges(gray_b, ink_b))
    color_distance = _color_distance(a, b, bg_a, bg_b)

    fidelity = (
        WEIGHTS["edges"] * edge_graded
        + WEIGHTS["ssimInk"] * ssim_ink
        + WEIGHTS["pixelMatch"] * pixel_match
        + WEIGHTS["color"] * (1.0 - color_distance)
    )
    figures = {
        "fidelity": fidelity,
        "ssim": ssim,
        "pixelMatch": pixel_match,
        "edgeF1": edge_f1,
        "colorDistance": color_distance,
    }
    rounded = {k: round(min(1.0, max(0.0, v)), 4) for k, v in figures.items()}
    return rounded, _Working(bg_a, bg_b, far & ink_a & ink_b, ink_a & ~ink_b, ink_b & ~ink_a)


# Palette of the difference map, by index: background, only original, only render, both alike, both recoloured.
_DIFF_PALETTE = [255, 255, 255, 222, 45, 38, 33, 102, 212, 205, 205, 205, 245, 150, 0]


def _full_ink(image: Image.Image, background: np.ndarray) -> np.ndarray:
    """Ink mask at full size, in Pillow's C loops: a per-channel lookup table, then any channel set."""
    lut = []
    for c in range(3):
        bg = float(background[c])
        lut.extend(255 if abs(v - bg) > INK_THRESHOLD else 0 for v in range(256))
    # Any channel at 255 makes the weighted gray at least 29, so "gray > 0" means "some channel differs".
    return np.asarray(image.point(lut).convert("L")) > 0


def _write_diff(image_a: Image.Image, image_b: Image.Image, working: _Working, path: str) -> None:
    ink_a = _full_ink(image_a, working.bg_a)
    ink_b = _full_ink(image_b, working.bg_b)
    index = ink_a.view(np.uint8) | (ink_b.view(np.uint8) << 1)
    if working.recoloured.any():
        # Colour mismatch is judged at working size (fills, not single pixels) and brought up to full size.
        coarse = Image.fromarray(working.recoloured.view(np.uint8))
        recoloured = np.asarray(coarse.resize(image_a.size, _NEAREST))
        index = index + (recoloured & (index == 3).view(np.uint8))
    out = Image.fromarray(index, "P")
    out.putpalette(_DIFF_PALETTE)
    # Fast zlib level: the map is mostly flat colour and is rewritten after every render.
    write_new(path, image=out)


def compare_images(original: np.ndarray, rendered: np.ndarray, diff_path: Optional[str] = None) -> Dict[str, float]:
    """The fidelity figures of ``rendered`` against ``original`` (HxWx3 uint8 RGB, same size)."""
    a = _as_rgb(original)
    b = _as_rgb(rendered)
    image_a = Image.fromarray(a)
    image_b = Image.fromarray(b)
    if image_b.size != image_a.size:
        image_b = fit_to(image_b, image_a.width, image_a.height)
    figures, working = _figures(image_a, image_b)
    if diff_path:
        _write_diff(image_a, image_b, working, diff_path)
    return figures


def compare(original: Image.Image, rendered: Image.Image, diff_path: Optional[str] = None) -> Dict[str, float]:
    """The figures of two RGB images (the rendered one fitted to the original's box), and the diff map.

    The render worker calls this on the images it has decoded itself; `compare_files` is the same on files.
    """
    rendered = fit_to(rendered, original.width, original.height)
    figures, working = _figures(original, rendered)
    if diff_path:
        _write_diff(original, rendered, working, diff_path)
    return figures


def compare_with_regions(original: Image.Image, rendered: Image.Image, diff_path: Optional[str] = None) -> Tuple[Dict[str, float], list]:
    """``compare``, plus the regions where the two differ (``difference_regions``)."""
    rendered = fit_to(rendered, original.width, original.height)
    figures, working = _figures(original, rendered)
    if diff_path:
        _write_diff(original, rendered, working, diff_path)
    return figures, difference_regions(working, original.size)


def compare_files(original_path: str, rendered_path: str, diff_path: Optional[str] = None) -> Dict[str, float]:
    """Load both images (links, non-regular files and pixel bombs refused) and compare them."""
    return compare(load_rgb(original_path), load_rgb(rendered_path), diff_path)


# ---------------------------------------------------------------------------------------------
# Regions of the difference map: where the redraw differs, as boxes a reader can look at.

REGION_CELL_PX = 4
REGION_CELL_MIN = 2
REGION_MIN_PX = 6
REGION_LIMIT = 64
_REGION_KINDS = ("missing-ink", "extra-ink", "colour")


def _components(cells: np.ndarray):
    """Groups of set cells that touch or lie at most two cells apart (a word's letters), each as (rows, columns)."""
    joined = _dilate(cells, 1)
    seen = np.zeros_like(cells)
    rows, cols = cells.shape
    groups = []
    for r0, c0 in zip(*np.nonzero(cells)):
        if seen[r0, c0]:
            continue
        stack, members = [(int(r0), int(c0))], []
        seen[r0, c0] = True
        while stack:
            r, c = stack.pop()
            if cells[r, c]:
                members.append((r, c))
            for rr in range(max(0, r - 1), min(rows, r + 2)):
                for cc in range(max(0, c - 1), min(cols, c + 2)):
                    if joined[rr, cc] and not seen[rr, cc]:
                        seen[rr, cc] = True
                        stack.append((rr, cc))
        groups.append(members)
    return groups


def difference_regions(working: "_Working", full_size: Tuple[int, int]) -> list:
    """Connected regions of the difference map, largest first, at most ``REGION_LIMIT``.

    Computed at working size: ``missing-ink`` where only the original has ink, ``extra-ink`` where only the
    render has, ``colour`` where both have ink of clearly different colours. The mask is pooled into cells of
    ``REGION_CELL_PX`` working pixels (a cell counts with at least ``REGION_CELL_MIN`` differing pixels);
    cells touching or one cell apart form a region. Each region: ``kind``, ``box`` [x, y, w, h] in the
    original's pixels, ``area`` (the box's share of the image) and ``ink`` (its differing pixels' share of
    the image). Regions with fewer than ``REGION_MIN_PX`` differing working pixels are left out.
    """
    h, w = working.only_a.shape
    sx, sy = full_size[0] / float(w), full_size[1] / float(h)
    k = REGION_CELL_PX
    rows, cols = -(-h // k), -(-w // k)
    out = []
    for kind, mask in zip(_REGION_KINDS, (working.only_a, working.only_b, working.recoloured)):
        if not mask.any():
            continue
        padded = np.zeros((rows * k, cols * k), dtype=np.uint16)
        padded[:h, :w] = mask
        counts = padded.reshape(rows, k, cols, k).sum(axis=(1, 3))
        for group in _components(counts >= REGION_CELL_MIN):
            r = np.array([g[0] for g in group])
            c = np.array([g[1] for g in group])
            y0, y1 = int(r.min()) * k, min(h, (int(r.max()) + 1) * k)
            x0, x1 = int(c.min()) * k, min(w, (int(c.max()) + 1) * k)
            part = mask[y0:y1, x0:x1]
            pixels = int(sum(int(counts[rr, cc]) for rr, cc in group))
            if pixels < REGION_MIN_PX:
                continue
            ys, xs = np.nonzero(part)
            bx0, by0 = (x0 + int(xs.min())) * sx, (y0 + int(ys.min())) * sy
            bx1, by1 = (x0 + int(xs.max()) + 1) * sx, (y0 + int(ys.max()) + 1) * sy
            box = [round(bx0, 1), round(by0, 1), round(bx1 - bx0, 1), round(by1 - by0, 1)]
            out.append({
                "kind": kind,
                "box": box,
                "area": round((bx1 - bx0) * (by1 - by0) / float(full_size[0] * full_size[1]), 6),
                "ink": round(pixels / float(w * h), 6),
            })
    out.sort(key=lambda region: -region["ink"])
    return out[:REGION_LIMIT]


def _main(argv: list) -> int:
    args = list(argv)
    diff = None
    if "--diff" in args:
        i = args.index("--diff")
        if i + 1 >= len(args):
            sys.stderr.write("--diff needs a file name, e.g. --diff diff.png\n")
            return 2
        diff = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.stderr.write("usage: refigure_compare.py ORIGINAL RENDERED [--diff DIFF.png]\n")
        return 2
    try:
        figures = compare_files(args[0], args[1], diff)
    except FileNotFoundError as e:
        sys.stderr.write("image not found: %s. Check the path.\n" % (e.filename,))
        return 2
    except (OSError, ValueError) as e:
        sys.stderr.write("cannot read the image: %s. Use a PNG, JPEG, GIF, BMP or WebP file.\n" % (e,))
        return 2
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
