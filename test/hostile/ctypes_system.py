# Calls libc's system() through ctypes.
import ctypes
ctypes.CDLL("libc.so.6").system(b"touch {{OUTSIDE}}/ctypes.txt")
