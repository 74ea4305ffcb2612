// Bundles bench/bench.ts (which uses the real render service from src/core) and runs it: `npm run bench [-- --json] [-- --limit N]`.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { createRequire } from 'node:module';

const outfile = resolve('out/bench/bench.js');
await build({
  entryPoints: ['bench/bench.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
});

const require = createRequire(pathToFileURL(outfile));
const { main } = require(outfile);
try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
}
