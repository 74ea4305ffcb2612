"""Decode, normalise, resize and re-encode images for Refigure (Pillow + numpy only).

The render worker dispatches its `convert` op to `convert(request)`; this file also runs on its
own: `python3 refigure_imageops.py '{"input": ..., "output": ..., "format": "png"}'` prints the
JSON result (or `{"error": ...}` with exit status 1).
"""

import json
import sys
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's own hard limit (2 x its default warning threshold); anything larger is treated as a
# decompression bomb and refused rather than decoded.
MAX_PIXELS = 178_956_970
MAX_SIDE = 65_535

Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2

FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "rgba": "application/octet-stream"}


def _open(path):
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; our limit is the 2x one.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as error:
        raise ValueError(f"{path} declares too many pixels to decode safely ({error}).") from None
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image Pillow can decode.") from None
    except FileNotFoundError:
        raise ValueError(f"No file at {path}.") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ValueError(f"{path} declares an empty image ({width}x{height}).")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ValueError(f"{path} declares {width}x{height} pixels, which is too large.")
    return im


def _normalise(im):
    """First frame, upright, composited on white, 8-bit RGB."""
    try:
        im.seek(0)
    except EOFError:
        pass
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"the image data could not be decoded ({error}); the file may be truncated or corrupt.") from None
    im = ImageOps.exif_transpose(im)
    mode = im.mode
    if mode == "I" or mode.startswith("I;16"):
        # 16-bit grayscale (PNG decodes it as I / I;16): scale to 8 bits; convert() would clip at 255.
        arr = np.asarray(im, dtype=np.float64) / 257.0
        im = Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "L")
        mode = "L"
    elif mode == "F":
        im = Image.fromarray(np.clip(np.asarray(im, dtype=np.float64) + 0.5, 0, 255).astype(np.uint8), "L")
        mode = "L"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode != "RGB":
        # CMYK, YCbCr, palette, grayscale and 1-bit all have well-defined RGB conversions in Pillow.
        return im.convert("RGB")
    return im


def load_rgb(path):
    """The image at `path` as an H x W x 3 uint8 array: first frame, upright, on white."""
    return np.asarray(_normalise(_open(path)), dtype=np.uint8)


def convert(request):
    """Decode `request["input"]`, optionally resize, write `request["output"]` as png/jpeg/rgba."""
    source = request.get("input")
    output = request.get("output")
    fmt = request.get("format", "png")
    if not source or not output:
        raise ValueError("convert needs both 'input' and 'output' paths.")
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; use png, jpeg or rgba.")
    im = _normalise(_open(source))
    width = request.get("width")
    height = request.get("height")
    if width or height:
        w0, h0 = im.size
        width = int(width) if width else max(1, round(w0 * int(height) / h0))
        height = int(height) if height else max(1, round(h0 * int(width) / w0))
        if width <= 0 or height <= 0 or width > MAX_SIDE or height > MAX_SIDE:
            raise ValueError(f"cannot resize to {width}x{height}.")
        if (width, height) != im.size:
            im = im.resize((width, height), Image.LANCZOS)
    if fmt == "png":
        im.save(output, "PNG")
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
