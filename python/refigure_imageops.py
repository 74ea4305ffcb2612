"""Decode, normalise, resize and re-encode images for Refigure (Pillow + numpy only).

The render worker dispatches its `convert` op to `convert(request)`; this file also runs on its
own: `python3 refigure_imageops.py '{"input": ..., "output": ..., "format": "png"}'` prints the
JSON result (or `{"error": ...}` with exit status 1).
"""

import json
import os
import sys

import numpy as np

# Run on its own, this file finds its sibling modules beside it.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from refigure_image import LANCZOS, MAX_SIDE, load_rgb as _load_image, normalise, open_image  # noqa: E402

FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "rgba": "application/octet-stream"}


def load_rgb(path):
    """The image at `path` as an H x W x 3 uint8 array: first frame, upright, on white."""
    return np.asarray(_load_image(path), dtype=np.uint8)


def convert(request):
    """Decode `request["input"]`, optionally resize, write `request["output"]` as png/jpeg/rgba."""
    source = request.get("input")
    output = request.get("output")
    fmt = request.get("format", "png")
    if not source or not output:
        raise ValueError("convert needs both 'input' and 'output' paths.")
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; use png, jpeg or rgba.")
    im = normalise(open_image(source))
    width = request.get("width")
    height = request.get("height")
    if width or height:
        w0, h0 = im.size
        width = int(width) if width else max(1, round(w0 * int(height) / h0))
        height = int(height) if height else max(1, round(h0 * int(width) / w0))
        if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
            raise ValueError(f"cannot resize to {width}x{height}.")
        if (width, height) != im.size:
            # A large reduction first by whole factors (fast box filter), then Lanczos for the rest.
            factor = min(im.size[0] // width, im.size[1] // height) // 2
            if factor >= 2:
                im = im.reduce(factor)
            im = im.resize((width, height), LANCZOS)
    if fmt == "png":
        # Fast zlib level: these are previews and thumbnails, written once and read once.
        im.save(output, "PNG", compress_level=1)
    elif fmt == "jpeg":
        im.save(output, "JPEG", quality=92)
    else:
        with open(output, "wb") as out:
            out.write(im.convert("RGBA").tobytes())
    return {"width": im.size[0], "height": im.size[1], "mediaType": FORMATS[fmt]}


def _main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: refigure_imageops.py '{\"input\": ..., \"output\": ..., \"format\": \"png\"}'\n")
        return 2
    try:
        result = convert(json.loads(argv[1]))
    except (ValueError, OSError) as error:
        sys.stdout.write(json.dumps({"error": str(error)}) + "\n")
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
