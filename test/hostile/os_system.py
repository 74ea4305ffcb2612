# Runs a shell command.
import os
os.system("touch {{OUTSIDE}}/system.txt")
