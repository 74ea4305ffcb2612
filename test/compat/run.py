"""Runs one program as the render child does (Agg, compatibility shims, the figure saved) and prints JSON.

    python -I run.py PROGRAM.py [--twice] [--disabled]   {ok, error, applied, messages, installed, reinstalled}
    python -I run.py A.py B.py ... [--disabled]          [{program, ok, error, applied}, ...] one process, in turn
    python -I run.py --versions                          {matplotlib, numpy}
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


def run(path, globals_builtins):
    """Execs one program on a fresh pyplot state; returns its result record."""
    refigure_compat.reset()
    plt.close("all")
    matplotlib.rcdefaults()
    with open(path, encoding="utf-8") as f:
        code = f.read()
    globals_ = {"__name__": "__main__", "__file__": path, "__builtins__": globals_builtins()}
    result = {"program": os.path.basename(path), "ok": True, "error": None}
    try:
        exec(compile(code, path, "exec"), globals_)
        with tempfile.TemporaryDirectory() as scratch:
            plt.gcf().savefig(os.path.join(scratch, "figure.png"))
    except BaseException as exc:
        result.update(ok=False, error={"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()})
    result["applied"] = refigure_compat.applied()
    return result


def main(argv):
    if argv == ["--versions"]:
        print(json.dumps({"matplotlib": matplotlib.__version__, "numpy": numpy.__version__}))
        return
    paths = [a for a in argv if not a.startswith("--")]
    messages = []
    installed = refigure_compat.install(matplotlib, numpy, messages.append)
    reinstalled = refigure_compat.install(matplotlib, numpy, messages.append) if "--twice" in argv else None
    if "--disabled" in argv:
        refigure_compat.set_enabled(False)
    if len(paths) > 1:
        print(json.dumps([run(path, refigure_compat.code_builtins) for path in paths]))
        return
    result = run(paths[0], refigure_compat.code_builtins)
    result.update(messages=messages, installed=installed, reinstalled=reinstalled)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
