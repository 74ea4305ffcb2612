// `npm run demo`: reconstructs a bundled sample figure with the configured endpoint, or offline when none is set.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { withRecordedPython } from './python.mjs';

const sample = join('media', 'samples', 'circle-sector.png');
const out = 'demo-output';
const configured = process.env.REFIGURE_ENDPOINT || process.env.OPENAI_BASE_URL;
process.stderr.write(
  configured
    ? `demo: reconstructing ${sample} with the endpoint ${configured}\n`
    : `demo: no endpoint configured (set REFIGURE_ENDPOINT and REFIGURE_MODEL to use a model); using the offline trace provider\n`,
);
const result = spawnSync(process.execPath, [join('dist', 'cli.js'), 'reconstruct', sample, '--out', out], { stdio: 'inherit', env: withRecordedPython() });
process.exit(result.status ?? 1);
