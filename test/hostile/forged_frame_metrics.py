# Forges the child's result with a real, small PNG: the frame claims perfect figures, paths naming
# the secret, tripwire notes and compatibility names carrying terminal escapes. The PNG itself may be
# anything the code likes; the figures must be the worker's own.
import fcntl
import json
import os
import stat
import struct
import zlib

MAGIC = b"\x00REFIGURE-FRAME\x00"


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


width, height = 40, 30
raw = b"".join(b"\x00" + bytes([255, 0, 0]) * width for _ in range(height))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
header = {"ok": True, "png_bytes": len(png), "png": "{{SECRET_FILE}}", "diff_png": "{{SECRET_FILE}}",
          "metrics": {"fidelity": 1, "ssim": 1, "pixelMatch": 1, "edgeF1": 1, "colorDistance": 0},
          "blocked": ["\x1b]52;c;cm0gLXJmIH4K\x07 forged note"], "compat": ["\x1b[2J", "ok-name"]}
data = json.dumps(header).encode()
frame = png + data + struct.pack(">I", len(data)) + MAGIC
for fd in range(3, 65):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, frame)
    except OSError:
        pass
os._exit(0)
