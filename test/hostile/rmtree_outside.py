# Deletes a whole folder outside scratch.
import shutil
shutil.rmtree("{{OUTSIDE}}")
