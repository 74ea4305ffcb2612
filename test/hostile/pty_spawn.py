# Starts a shell on a pseudo-terminal.
import pty
pty.spawn(["/bin/sh", "-c", "touch {{OUTSIDE}}/pty.txt"])
