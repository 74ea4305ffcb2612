"""Runs one program as the render child does (Agg, compatibility shims, the figure saved) and prints JSON.

    python -I run.py PROGRAM.py [--twice]   {ok, error, applied, messages, installed, reinstalled}
    python -I run.py --versions             {matplotlib, numpy}
"""

import json
import os
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import matplotlib  # noqa: E402

matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

import refigure_compat  # noqa: E402


def main(argv):
    if argv == ["--versions"]:
        print(json.dumps({"matplotlib": matplotlib.__version__, "numpy": numpy.__version__}))
        return
    path = [a for a in argv if not a.startswith("--")][0]
    messages = []
    installed = refigure_compat.install(matplotlib, numpy, messages.append)
    reinstalled = refigure_compat.install(matplotlib, numpy, messages.append) if "--twice" in argv else None
    with open(path, encoding="utf-8") as f:
        code = f.read()
    globals_ = {"__name__": "__main__", "__file__": path, "__builtins__": refigure_compat.code_builtins()}
    result = {"ok": True, "error": None}
    try:
        exec(compile(code, path, "exec"), globals_)
        with tempfile.TemporaryDirectory() as scratch:
            plt.gcf().savefig(os.path.join(scratch, "figure.png"))
    except BaseException as exc:
        result = {
            "ok": False,
            "error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()},
        }
    result.update(applied=refigure_compat.applied(), messages=messages, installed=installed, reinstalled=reinstalled)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
