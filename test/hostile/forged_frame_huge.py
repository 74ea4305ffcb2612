# Forges the child's result: finds the result pipe (the one write-only FIFO beyond stdout and
# stderr, by fstat over descriptors 3..64) and writes a complete frame there itself, then exits
# before the real one: ok, forged figures, a png path naming the secret, and a small PNG whose
# header claims 30000 × 30000 pixels (its rows of zeros compress to almost nothing).
import json
import os
import stat
import struct
import zlib

MAGIC = b"\x00REFIGURE-FRAME\x00"


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


width = height = 30000
packer = zlib.compressobj(9)
row = b"\x00" * (1 + 3 * width)
idat = b"".join(packer.compress(row) for _ in range(600)) + packer.flush()
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
header = {"ok": True, "png_bytes": len(png), "png": "{{SECRET_FILE}}", "diff_png": "{{SECRET_FILE}}", "width": width, "height": height,
          "metrics": {"fidelity": 1, "ssim": 1, "pixelMatch": 1, "edgeF1": 1, "colorDistance": 0}}
data = json.dumps(header).encode()
frame = png + data + struct.pack(">I", len(data)) + MAGIC
pipes = []
for fd in range(3, 65):
    try:
        info = os.fstat(fd)
        if stat.S_ISFIFO(info.st_mode):
            import fcntl

            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                pipes.append(fd)
    except OSError:
        pass
print("result pipe candidates:", pipes, "frame of", len(frame), "bytes", flush=True)
for fd in pipes:
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]
os._exit(0)
