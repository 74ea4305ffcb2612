// Measures the readings the panel's colour thresholds are calibrated on (figureThresholds in src/extension/panelHtmlPure.ts)
// and writes them to panelThresholds.json beside this file. Run after a change to the fidelity figures:
//   npx esbuild test/calibration/panelThresholds.ts --bundle --platform=node --target=node20 --format=cjs --outdir=out/calibration
//   node out/calibration/panelThresholds.js
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRenderer } from '../../src/core/render/render';
import { readImage } from '../../src/core/reconstruct/input';
import { traceToCode } from '../../src/core/offline/offline';
import type { Metrics } from '../../src/core/types';
import { repoRoot, stemFixtures } from '../support/paths';

// Every axes moved by 4 % and 3 % of the figure: the same figure, visibly off.
const shift = `
import matplotlib.pyplot as _plt
for _ax in _plt.gcf().axes:
    _p = _ax.get_position()
    _ax.set_position([_p.x0 + 0.04, _p.y0 + 0.03, _p.width, _p.height])
`;

async function main(): Promise<void> {
  const renderer = await createRenderer({ python: process.env.REFIGURE_PYTHON, concurrency: 1 });
  const rows: Array<{ kind: string; figure: string } & Metrics> = [];
  const add = (kind: string, figure: string, m: Metrics | undefined): void => {
    if (m) rows.push({ kind, figure, ...m });
  };
  const corpus = join(repoRoot, 'bench', 'corpus');
  const pngs = readdirSync(corpus).filter((f) => f.endsWith('.png')).sort();
  const dir = mkdtempSync(join(tmpdir(), 'refigure-calibration-'));
  try {
    for (const [i, name] of pngs.entries()) {
      const path = join(corpus, name);
      const info = await readImage(path);
      const like = { path, width: info.width, height: info.height };
      const code = readFileSync(path.replace(/\.png$/, '.py'), 'utf8');
      add('exact', name, (await renderer.render({ code, like, outDir: dir, stem: `exact${i}` })).metrics);
      add('shifted', name, (await renderer.render({ code: code.replace(/plt\.show\(\)|$/, shift), like, outDir: dir, stem: `shifted${i}` })).metrics);
      add('unrelated', name, await renderer.compare(path, join(corpus, pngs[(i + 7) % pngs.length] ?? name)));
    }
    for (const name of readdirSync(stemFixtures).filter((f) => f.endsWith('.png')).sort().slice(0, 30)) {
      const info = await readImage(join(stemFixtures, name));
      const trace = await traceToCode(info, renderer, { scratchDir: dir });
      add('offline-trace', name, (await renderer.render({ code: trace.code, like: { path: info.path, width: info.width, height: info.height }, outDir: dir, stem: `trace-${name}` })).metrics);
    }
  } finally {
    await renderer.close();
  }
  const about = readJson().about;
  writeFileSync(join(repoRoot, 'test', 'calibration', 'panelThresholds.json'), JSON.stringify({ about, rows }, null, 0));
}

function readJson(): { about: string } {
  return JSON.parse(readFileSync(join(repoRoot, 'test', 'calibration', 'panelThresholds.json'), 'utf8')) as { about: string };
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
