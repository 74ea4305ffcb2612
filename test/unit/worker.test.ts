// The render worker's own behaviour across matplotlib versions: fonts opened by the warm parent stay
// usable in every child, matplotlib's config folder persists, and the layer refusal says what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRenderer } from '../../src/core/render/render';
import { chooseLayer, mplConfigDir } from '../../src/core/render/sandbox';
import { RefigureError } from '../../src/core/errors';
import { findPython } from '../../src/core/render/python';
import { silentLogger } from '../../src/core/types';
import { scratch } from '../support/paths';

// Mathtext tick labels, a numeric font weight and a tight bounding box: together they make FreeType read
// glyphs through font files the warm parent opened. A child that closed those descriptors hands their
// numbers to the next files opened (here: data files the program keeps open), and FreeType then reads
// glyphs out of the wrong file ("FT_Load_Glyph … invalid stream operation").
const fontProgram = `
import matplotlib.pyplot as plt
logs = [open("log%d.txt" % i, "w") for i in range(24)]
for f in logs:
    f.write("x" * 4096)
    f.flush()
fig, ax = plt.subplots(figsize=(4, 3))
ax.plot([0, 1, 2, 3], [0, 1, 4, 9])
ax.set_xticks([0, 1, 2, 3])
ax.set_xticklabels([r"$\\alpha_0$", r"$\\beta^2$", r"$\\frac{1}{2}$", r"$\\sqrt{x}$"])
ax.set_title("Thin title", fontweight="100")
ax.set_ylabel(r"$\\int_0^x t\\,dt$", fontweight="100")
fig.savefig("figure.png", bbox_inches="tight")
`;

test('a fresh matplotlib config folder, then mathtext, a numeric weight and a tight box render in every child', async () => {
  const cache = scratch('refigure-xdg-cache-');
  const out = scratch();
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cache.dir;
  const renderer = await createRenderer({});
  try {
    const folder = mplConfigDir(renderer.python);
    assert.ok(folder.startsWith(cache.dir), `${folder} is under the user's cache folder`);
    assert.deepEqual(readdirSync(folder), [], 'the config folder starts empty, as on a first run');
    for (const stem of ['first', 'second', 'third']) {
      const outcome = await renderer.render({ code: fontProgram, outDir: out.dir, stem });
      assert.equal(outcome.ok, true, `${stem}: ${JSON.stringify(outcome.error)}\n${outcome.output ?? ''}`);
    }
    // The font cache was built once, in the folder that outlives the worker.
    assert.ok(readdirSync(folder).some((name) => /^fontlist-.*\.json$/.test(name)), `no font cache in ${folder}: ${readdirSync(folder).join(', ')}`);
  } finally {
    await renderer.close();
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    cache.dispose();
    out.dispose();
  }
});

test('a render cannot write matplotlib config: the next worker does not read a planted matplotlibrc', async () => {
  const out = scratch();
  const renderer = await createRenderer({});
  try {
    const folder = mplConfigDir(renderer.python);
    const plant = `import os\nopen(os.path.join(os.environ["MPLCONFIGDIR"], "matplotlibrc"), "w").write("lines.linewidth: 40\\n")\n`;
    const outcome = await renderer.render({ code: plant, outDir: out.dir, stem: 'plant' });
    assert.equal(outcome.ok, false, 'writing the config folder must fail');
    assert.equal(existsSync(join(folder, 'matplotlibrc')), false);
  } finally {
    await renderer.close();
    out.dispose();
  }
});

test('with no kernel-enforced layer the service refuses, naming the way to get one and the opt-in', async () => {
  const python = (await findPython({})).path;
  // A layer asked for by name that cannot work here stands for a machine without one.
  const error = await chooseLayer('bwrap', join(python, 'not-a-python'), silentLogger).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (process.platform !== 'linux') return;
  assert.ok(error instanceof RefigureError, String(error));
  assert.equal(error.code, 'no-sandbox');
  assert.equal(error.kind, 'environment');
  assert.match(error.message, /No kernel-enforced sandbox/);
  assert.match(error.hint ?? '', /apt-get install bubblewrap/);
  assert.match(error.hint ?? '', /--sandbox none/);
});

test('--sandbox none is the explicit opt-in, and the outcome says so', async () => {
  const out = scratch();
  const renderer = await createRenderer({ sandbox: 'none' });
  try {
    assert.equal(renderer.sandbox, 'none');
    const outcome = await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([0, 1])\n', outDir: out.dir, stem: 'none' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.error));
    assert.equal(outcome.sandbox, 'none');
  } finally {
    await renderer.close();
    out.dispose();
  }
});

test('under Landlock each render gets its own size-capped scratch, which files unlinked while open cannot escape', { skip: process.platform !== 'linux' && 'Linux only' }, async () => {
  const out = scratch();
  const renderer = await createRenderer({ sandbox: 'landlock' }).catch(() => undefined);
  if (!renderer) return;
  try {
    const code = [
      'import os',
      'held = []',
      'for n in range(12):',
      '    fd = os.open("held%d" % n, os.O_CREAT | os.O_RDWR, 0o600)',
      '    os.unlink("held%d" % n)',
      '    os.write(fd, b"x" * (60 << 20))',
      '    held.append(fd)',
      'import matplotlib.pyplot as plt',
      'plt.plot([0, 1])',
    ].join('\n');
    const outcome = await renderer.render({ code, outDir: out.dir, stem: 'held' });
    assert.equal(outcome.ok, false, 'holding 720 MiB unlinked must not pass the 512 MiB cap');
    assert.match(outcome.error?.message ?? '', /No space left on device|wrote more than 512 MiB/);
    const next = await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([1, 0])\n', outDir: out.dir, stem: 'next' });
    assert.equal(next.ok, true, JSON.stringify(next.error));
  } finally {
    await renderer.close();
    out.dispose();
  }
});
