# Runs a program.
import subprocess
subprocess.run(["touch", "{{OUTSIDE}}/subprocess.txt"], check=True)
