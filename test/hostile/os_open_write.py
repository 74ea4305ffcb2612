# Creates a file outside scratch with os.open.
import os
fd = os.open("{{OUTSIDE}}/os-open.txt", os.O_WRONLY | os.O_CREAT)
os.write(fd, b"escaped")
