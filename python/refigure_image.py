"""Image I/O shared by the render worker, the comparison and `convert`: one decoder, one fit, one set of caps.

Every image the worker reads is untrusted (the user's original, or a PNG a render child produced): files
are opened without following links and only when they are regular files, and nothing is decoded past
the same pixel cap that input images get.
"""

import io
import os
import stat
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow's own hard limit (2 x its default warning threshold); anything larger is treated as a
# decompression bomb and refused rather than decoded.
MAX_PIXELS = 178_956_970
MAX_SIDE = 65_535
# Files the worker reads: the original (as staged) and the render's PNG.
MAX_FILE_BYTES = 256 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2

try:
    LANCZOS = Image.Resampling.LANCZOS
except AttributeError:  # Pillow < 9.1
    LANCZOS = Image.LANCZOS


def read_regular(path, limit=MAX_FILE_BYTES):
    """The bytes of `path`, which must be a regular file (no link, FIFO or device) of at most `limit` bytes."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ValueError("%s cannot be opened as a plain file (%s)." % (path, error.strerror or error)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("%s is not a regular file." % path)
        if info.st_size > limit:
            raise ValueError("%s is %d bytes, more than the %d allowed." % (path, info.st_size, limit))
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ValueError("%s grew past the %d bytes allowed." % (path, limit))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def png_size(data):
    """(width, height) from a PNG's header, or ValueError when `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("the data is not a PNG image.")
    return struct.unpack(">II", data[16:24])


def open_image(source, name="the image"):
    """Opens a path or bytes with Pillow, refusing links, non-regular files and too many pixels."""
    data = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else read_regular(source)
    if not isinstance(source, (bytes, bytearray, memoryview)):
        name = source
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS; our limit is the 2x one.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ValueError(f"{name} declares too many pixels to decode safely ({error}).") from None
    except UnidentifiedImageError:
        raise ValueError(f"{name} is not an image Pillow can decode.") from None
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ValueError(f"{name} declares an empty image ({width}x{height}).")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise ValueError(f"{name} declares {width}x{height} pixels, which is too large.")
    return im


def normalise(im):
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


def load_rgb(source):
    """A path or bytes as an RGB image: first frame, upright, on white, within the pixel cap."""
    return normalise(open_image(source))


def is_opaque_rgb(im):
    return im.mode == "RGB" or (im.mode == "RGBA" and im.getchannel("A").getextrema()[0] == 255)


def fit_to(image, width, height):
    """Resize `image` into a width x height box keeping its aspect, centred on white."""
    if image.size == (width, height):
        return image
    scale = min(width / image.width, height / image.height)
    w = max(1, min(width, round(image.width * scale)))
    h = max(1, min(height, round(image.height * scale)))
    # Rounding leaves up to a pixel of slack; treat that as the same aspect rather than letterboxing.
    if abs(w - width) <= 1 and abs(h - height) <= 1:
        w, h = width, height
    resized = image.resize((w, h), LANCZOS)
    if (w, h) == (width, height):
        return resized
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    canvas.paste(resized, ((width - w) // 2, (height - h) // 2))
    return canvas


def write_new(path, data=None, image=None):
    """Writes a PNG at `path` as a new file, never through whatever link or file might already be there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as f:
        if data is not None:
            f.write(data)
        else:
            # Fast zlib level: renders and difference maps are rewritten after every edit.
            image.save(f, format="PNG", compress_level=1)
