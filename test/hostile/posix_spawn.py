# Spawns a program without fork.
import os
os.posix_spawn("/usr/bin/touch", ["touch", "{{OUTSIDE}}/spawn.txt"], dict(os.environ))
