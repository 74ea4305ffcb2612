# Takes disk space faster than a periodic check can see, then ends before the check comes round:
# fallocate reserves 60 MiB per file at once, well past the render's disk cap in a few milliseconds,
# and the code writes its own (valid) result frame straight into the result pipe and exits, so the
# render is over before any figure is drawn.
import fcntl
import json
import os
import stat
import struct
import zlib

for n in range(12):
    fd = os.open("fast-%02d.bin" % n, os.O_CREAT | os.O_WRONLY, 0o644)
    os.posix_fallocate(fd, 0, 60 << 20)
    os.close(fd)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


raw = b"".join(b"\x00" + b"\xff\xff\xff" * 8 for _ in range(8))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
header = json.dumps({"ok": True, "png_bytes": len(png)}).encode()
frame = png + header + struct.pack(">I", len(header)) + b"\x00REFIGURE-FRAME\x00"
for fd in range(3, 65):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            os.write(fd, frame)
    except OSError:
        pass
print("reserved 720 MiB and ended with a result of its own", flush=True)
os._exit(0)
