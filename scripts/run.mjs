// `node scripts/run.mjs COMMAND ARGS…`: runs a command of the checkout's (tests, bench, CLI) with
// REFIGURE_PYTHON set to the interpreter setup recorded, unless REFIGURE_PYTHON is already set.
import { spawnSync } from 'node:child_process';
import { withRecordedPython } from './python.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node scripts/run.mjs COMMAND [ARGS…]\n');
  process.exit(2);
}
const result = spawnSync(command === 'node' ? process.execPath : command, args, { stdio: 'inherit', env: withRecordedPython() });
if (result.error) {
  process.stderr.write(`run: ${command}: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? (result.signal ? 128 : 1));
