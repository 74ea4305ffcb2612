// Bundles the extension, the command line, the webview and (with --tests) the test files.
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, chmodSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const production = args.has('--production');
const quiet = args.has('--quiet');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: quiet ? 'warning' : 'info',
  legalComments: 'none',
};

const node = { ...common, platform: 'node', target: 'node20', format: 'cjs' };

await Promise.all([
  build({ ...node, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  build({ ...node, entryPoints: ['src/cli/bin.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
  build({ ...node, entryPoints: ['src/core/offline/traceWorker.ts'], outfile: 'dist/traceWorker.js' }),
  build({ ...node, entryPoints: ['src/core/fidelity/ocrWorker.ts'], outfile: 'dist/ocrWorker.js' }),
  build({ ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js' }),
]);
chmodSync('dist/cli.js', 0o755);

// The OCR worker loads Tesseract's WebAssembly from beside itself and the English data from dist/tessdata:
// both ship in the .vsix, which has no node_modules, and nothing is fetched at run time.
for (const name of ['tesseract-core-relaxedsimd-lstm.wasm', 'tesseract-core-simd-lstm.wasm', 'tesseract-core-lstm.wasm']) {
  copyFileSync(join('node_modules', 'tesseract.js-core', name), join('dist', name));
}
mkdirSync('dist/tessdata', { recursive: true });
copyFileSync('node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz', 'dist/tessdata/eng.traineddata.gz');

function collect(dir, suffix) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found.push(...collect(full, suffix));
    else if (name.endsWith(suffix)) found.push(full);
  }
  return found;
}

if (args.has('--tests')) {
  rmSync('out', { recursive: true, force: true });
  const dirs = ['test/unit', 'test/integration', 'test/e2e', 'test/support'].filter((d) => {
    try { return statSync(d).isDirectory(); } catch { return false; }
  });
  const entryPoints = dirs.flatMap((d) => collect(d, '.ts'));
  if (entryPoints.length) {
    // Test files are bundled one by one so each runs on its own; `vscode` stays external
    // because integration tests run inside a real VS Code extension host.
    await build({ ...node, entryPoints, outdir: 'out/test', outbase: 'test', external: ['vscode', 'mocha', 'playwright-core'] });
  }
}
