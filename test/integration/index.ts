// The mocha entry the VS Code extension host loads (extensionTestsPath): runs every bundled *.test.js beside it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    // The workbench forwards the extension host's console line by line; colour codes would only add noise.
    color: false,
    timeout: Number(process.env.REFIGURE_TEST_TIMEOUT_MS ?? 60_000),
    grep: process.env.REFIGURE_TEST_GREP || undefined,
  });
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, file));
  }
  const failures = await new Promise<number>((resolve, reject) => {
    try {
      mocha.run(resolve);
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
  if (failures > 0) throw new Error(`${failures} integration test(s) failed.`);
}
