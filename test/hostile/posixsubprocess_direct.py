# Starts a program through the C helper behind subprocess, which raises no audit event of its own.
import _posixsubprocess, os
r, w = os.pipe()
_posixsubprocess.fork_exec([b"/usr/bin/touch", b"{{OUTSIDE}}/fork_exec.txt"], [b"/usr/bin/touch"], True, (w,), None, None, -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, -1, -1, None, False)
