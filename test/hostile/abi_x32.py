# Makes a system call through the x32 table (call number with bit 30 set), which a filter that only
# matches 64-bit numbers would not see. A filter that checks for it kills the process. The call
# made is the harmless getpid.
import ctypes
import platform

if platform.machine() != "x86_64":
    raise SystemExit("x86_64 only")
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
result = libc.syscall(ctypes.c_long(0x40000000 | 39))
print("REFIGURE-" + "HOLE", "the x32 table answered", result, ctypes.get_errno(), flush=True)
