# Makes a temporary file in a folder of its choosing.
import tempfile
print(tempfile.mkstemp(dir="{{OUTSIDE}}"))
