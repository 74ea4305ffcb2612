"""Times python/refigure_compare.py at several image sizes (for `npm run bench`); prints one JSON object.

    python3 bench/compareSpeed.py [--sizes 0.25,1,2] [--runs 7]

Each pair is a corpus figure scaled to the size and the same figure shifted by 3 px,
so every branch (ink, edges, colour, diff) has work to do. Times are medians in ms,
each as {"wall", "cpu"}:
`figures` (compare_images without a diff), `withDiff` (figures + writing the diff PNG),
`files` (compare_files: decoding both PNGs, figures and diff).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
from refigure_compare import compare_files, compare_images, load_rgb  # noqa: E402

FIGURES = ["02_circle_tangent.png", "18_contour.png"]


def median_ms(fn, runs):
    """Median wall-clock and CPU milliseconds (CPU time is the better figure on a busy machine)."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {"wall": round(statistics.median(wall), 1), "cpu": round(statistics.median(cpu), 1)}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0.25,1,2")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="refigure-compare-speed-") as tmp:
        diff = os.path.join(tmp, "diff.png")
        for megapixels in [float(s) for s in args.sizes.split(",")]:
            for name in FIGURES:
                source = load_rgb(os.path.join(HERE, "corpus", name))
                scale = (megapixels * 1e6 / (source.width * source.height)) ** 0.5
                original = source.resize((round(source.width * scale), round(source.height * scale)), Image.LANCZOS)
                a = np.asarray(original)
                b = np.full_like(a, 255)
                b[3:, 3:] = a[:-3, :-3]
                pa, pb = os.path.join(tmp, "a.png"), os.path.join(tmp, "b.png")
                original.save(pa)
                Image.fromarray(b).save(pb)
                compare_images(a, b, diff)  # first call pays for lazy imports and caches
                rows.append(
                    {
                        "megapixels": megapixels,
                        "figure": name,
                        "width": a.shape[1],
                        "height": a.shape[0],
                        "figures": median_ms(lambda: compare_images(a, b), args.runs),
                        "withDiff": median_ms(lambda: compare_images(a, b, diff), args.runs),
                        "files": median_ms(lambda: compare_files(pa, pb, diff), args.runs),
                    }
                )
    sys.stdout.write(json.dumps({"compare": rows}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
