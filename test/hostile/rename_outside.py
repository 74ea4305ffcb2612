# Moves a file from outside into scratch.
import os
os.rename("{{OUTSIDE}}/keep.txt", "stolen.txt")
