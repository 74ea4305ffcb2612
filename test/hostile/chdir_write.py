# Leaves scratch with chdir, then writes by a relative name.
import os
os.chdir(os.path.dirname(os.getcwd()))
open("relative.txt", "w").write("escaped")
