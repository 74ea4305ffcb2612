"""Renders the benchmark corpus (bench/corpus/NN_name.py) to the PNGs committed beside the programs.

Run with a Python that has matplotlib (the one setup recorded: `node scripts/run.mjs sh -c '$REFIGURE_PYTHON bench/renderCorpus.py'`):

    python bench/renderCorpus.py                 # every program, PNG beside it
    python bench/renderCorpus.py --out DIR 02 08 # some programs (by number, name or path) into DIR
    python bench/renderCorpus.py --check --out DIR
        # render into DIR and compare each render with the committed PNG (prints JSON lines)
    python bench/renderCorpus.py --out DIR --repeat 2
        # the in-process floor: "seconds" is the warm second run of exec + savefig
    python bench/renderCorpus.py --out DIR --repeat 2 --texts
        # also "textsSeconds": the same with the render's texts recorded as the worker records them,
        # the runs of both kinds interleaved

Every program runs in this one process with a fresh namespace, matplotlib's defaults
restored, the Agg backend and `plt.show()` a no-op; the current figure is saved at a
fixed DPI with no bbox cropping, so the PNG size is figsize x DPI.
"""

import argparse
import glob
import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
DPI = 100


def programs(selectors):
    every = sorted(glob.glob(os.path.join(CORPUS, "[0-9][0-9]_*.py")))
    if not selectors:
        return every
    chosen = []
    for s in selectors:
        if os.path.isfile(s):
            chosen.append(os.path.abspath(s))
            continue
        hits = [p for p in every if os.path.basename(p).startswith(s) or os.path.basename(p)[:-3] == s]
        if not hits:
            raise SystemExit("no corpus program matches %r; use a number (02), a name (02_circle_tangent) or a path" % s)
        chosen.extend(hits)
    return chosen


def render(program, png, texts=False):
    """Run one program and save its current figure (recording its texts when asked); returns the seconds spent."""
    with open(program, encoding="utf-8") as f:
        source = f.read()
    plt.close("all")
    matplotlib.rcdefaults()
    matplotlib.use("Agg")
    started = time.perf_counter()
    namespace = {"__name__": "__main__", "__file__": program}
    show = plt.show
    plt.show = lambda *args, **kwargs: None
    try:
        exec(compile(source, program, "exec"), namespace)
        if texts:
            import refigure_text

            with refigure_text.recording_texts() as recording:
                plt.gcf().savefig(png, dpi=DPI)
            width, height = plt.gcf().canvas.get_width_height()
            recording.items(width, height)
        else:
            plt.gcf().savefig(png, dpi=DPI)
    finally:
        plt.show = show
        plt.close("all")
    return time.perf_counter() - started


def main(argv):
    parser = argparse.ArgumentParser(description="Render the Refigure benchmark corpus.")
    parser.add_argument("programs", nargs="*", help="numbers, names or paths of programs (default: all)")
    parser.add_argument("--out", help="folder for the PNGs (default: beside each program)")
    parser.add_argument("--check", action="store_true", help="compare each render with the committed PNG")
    parser.add_argument("--repeat", type=int, default=1, help="render each program N times; 'seconds' is the last (warm) run")
    parser.add_argument("--texts", action="store_true", help="also time renders that record their texts ('textsSeconds')")
    args = parser.parse_args(argv)
    if args.check and not args.out:
        parser.error("--check needs --out DIR so the committed PNGs are not overwritten")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    compare_files = None
    if args.check or args.texts:
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
    if args.check:
        from refigure_compare import compare_files  # noqa: E402
    for program in programs(args.programs):
        stem = os.path.basename(program)[:-3]
        png = os.path.join(args.out or os.path.dirname(program), stem + ".png")
        runs, text_runs = [], []
        for _ in range(max(1, args.repeat)):
            runs.append(render(program, png))
            if args.texts:
                text_runs.append(render(program, png, texts=True))
        record = {"name": stem, "png": png, "seconds": round(runs[-1], 4), "firstSeconds": round(runs[0], 4)}
        if text_runs:
            record["textsSeconds"] = round(text_runs[-1], 4)
        if compare_files is not None:
            committed = program[:-3] + ".png"
            record["metrics"] = compare_files(committed, png) if os.path.exists(committed) else None
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
