// Python discovery: skips interpreters without matplotlib, honours an explicit choice, explains total failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { clearPythonCache, findPython } from '../../src/core/render/python';
import { RefigureError } from '../../src/core/errors';
import type { Logger } from '../../src/core/types';
import { scratch } from '../support/paths';

/** A fake interpreter that fails the way a pyenv shim without matplotlib does. */
function fakePython(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'matplotlib'\" >&2\nexit 1\n");
  chmodSync(path, 0o755);
  return path;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m), debug: (m) => lines.push(m) };
}

test('discovery skips an interpreter without matplotlib and finds one that renders', async () => {
  const tmp = scratch();
  try {
    // The interpreter this run renders with (setup's choice), offered only after the fakes.
    const working = (await findPython({})).path;
    const fake3 = fakePython(tmp.dir, 'python3');
    const fake = fakePython(tmp.dir, 'python');
    clearPythonCache();
    const logger = recordingLogger();
    const env = { ...process.env, PATH: [tmp.dir, process.env.PATH ?? ''].join(delimiter), REFIGURE_PYTHON: '' };
    const info = await findPython({ env, logger, systemPaths: [working] });
    assert.equal(info.path, working);
    assert.ok(logger.lines.some((l) => l.includes(fake)), 'the fake python was tried and skipped');
    assert.match(info.matplotlib, /^\d+\.\d+/);
    assert.match(info.numpy, /^\d+\.\d+/);
    assert.match(info.pillow, /^\d+\.\d+/);
    assert.ok(info.roots && info.roots.length > 0, 'the interpreter reports the folders it loads from');
    assert.ok(logger.lines.some((l) => l.includes(fake3) && l.includes("No module named 'matplotlib'")), logger.lines.join('\n'));
    // The same question is answered from the cache, and an explicit path to the found interpreter works too.
    assert.equal(await findPython({ env, systemPaths: [working] }), info);
    const explicit = await findPython({ explicit: info.path, env });
    assert.equal(explicit.path, info.path);
  } finally {
    tmp.dispose();
  }
});

test('an explicit interpreter that does not work is an error naming it, with no fallback', async () => {
  const tmp = scratch();
  try {
    clearPythonCache();
    const missing = join(tmp.dir, 'no-such-python');
    await assert.rejects(findPython({ explicit: missing }), (error: unknown) => {
      assert.ok(error instanceof RefigureError);
      assert.equal(error.kind, 'environment');
      assert.ok(error.message.includes(missing), error.message);
      assert.match(error.message, /not found/);
      return true;
    });
    const fake = fakePython(tmp.dir, 'python3');
    await assert.rejects(findPython({ explicit: fake }), (error: unknown) => {
      assert.ok(error instanceof RefigureError);
      assert.ok(error.message.includes(fake), error.message);
      assert.match(error.message, /No module named 'matplotlib'/);
      assert.match(error.hint ?? '', /install/);
      return true;
    });
  } finally {
    tmp.dispose();
  }
});

test('when nothing works the error lists every interpreter tried and how to install', async () => {
  const tmp = scratch();
  try {
    clearPythonCache();
    const fake3 = fakePython(tmp.dir, 'python3');
    const fake = fakePython(tmp.dir, 'python');
    const missing = join(tmp.dir, 'elsewhere', 'python3');
    const env = { PATH: tmp.dir, REFIGURE_PYTHON: missing };
    await assert.rejects(findPython({ env, systemPaths: [] }), (error: unknown) => {
      assert.ok(error instanceof RefigureError);
      assert.equal(error.kind, 'environment');
      for (const tried of [missing, fake3, fake]) assert.ok(error.message.includes(tried), `${tried} missing from: ${error.message}`);
      assert.match(error.hint ?? '', /apt-get install python3-matplotlib|pip install matplotlib numpy pillow/);
      return true;
    });
  } finally {
    tmp.dispose();
  }
});
