# Deletes a file outside scratch.
import os
os.remove("{{OUTSIDE}}/keep.txt")
