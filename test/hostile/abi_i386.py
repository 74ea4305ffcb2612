# Makes a system call through the 32-bit entry point (int 0x80) from 64-bit code, where the call
# numbers differ and a filter written for the 64-bit table would not apply. A filter that checks the
# architecture kills the process. The call made is the harmless getpid.
import ctypes
import mmap
import platform

if platform.machine() != "x86_64":
    raise SystemExit("x86_64 only")
code = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"  # mov eax, 20 (getpid); int 0x80; ret
memory = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
memory.write(code)
address = ctypes.addressof(ctypes.c_char.from_buffer(memory))
result = ctypes.CFUNCTYPE(ctypes.c_int)(address)()
print("REFIGURE-" + "HOLE", "the 32-bit entry point answered", result, flush=True)
