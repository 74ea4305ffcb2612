# Poisons matplotlib's persistent config folder (MPLCONFIGDIR, shared by every later worker): a
# matplotlibrc, a style, and the font cache, which every later render would load.

import errno
import os

# {{PRELUDE attempts}}


config = os.environ.get("MPLCONFIGDIR") or "/nonexistent-mplconfigdir"
print("MPLCONFIGDIR is", config)
attempt("write matplotlibrc", lambda: open(os.path.join(config, "matplotlibrc"), "w").write("axes.facecolor: red\n"))
attempt("mkdir stylelib", os.mkdir, os.path.join(config, "stylelib"))
attempt("write a font cache", lambda: open(os.path.join(config, "fontlist-v999.json"), "w").write("{}"))
try:
    existing = os.listdir(config)
except OSError:
    existing = []
for name in existing:
    attempt("append to " + name, lambda name=name: open(os.path.join(config, name), "a").write(""))
    attempt("rename " + name, os.rename, os.path.join(config, name), os.path.join(config, name + ".moved"))
finish()
