# Forges the child's result with twenty tripwire notes of 100 kB each: the worker appends the notes
# to the printed output after that output was capped, so unchecked they carry 2 MB past the cap.
import fcntl
import json
import os
import stat
import struct
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


raw = b"".join(b"\x00" + b"\x00\x80\xff" * 16 for _ in range(16))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
header = json.dumps({"ok": True, "png_bytes": len(png), "blocked": ["forged note " * 8_500] * 20}).encode()
frame = png + header + struct.pack(">I", len(header)) + b"\x00REFIGURE-FRAME\x00"
for fd in range(3, 65):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view):]
    except OSError:
        pass
os._exit(0)
