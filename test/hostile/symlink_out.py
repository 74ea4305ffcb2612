# Plants a symlink in scratch that points outside, then writes through it.
import os
os.symlink("{{OUTSIDE}}/through-link.txt", "link.txt")
with open("link.txt", "w") as f:
    f.write("escaped")
