// The benchmark corpus: enough programs, each with its committed PNG, deterministic, and re-rendering to that PNG.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { findPython } from '../../src/core/render/python';
import type { Metrics } from '../../src/core/types';
import { repoRoot, scratch } from '../support/paths';

const corpus = join(repoRoot, 'bench', 'corpus');
const programs = readdirSync(corpus)
  .filter((name) => name.endsWith('.py'))
  .sort();

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('corpus files', () => {
  test('has at least 20 programs named NN_name.py, each with its PNG', () => {
    assert.ok(programs.length >= 20, `only ${programs.length} programs`);
    for (const name of programs) {
      assert.match(name, /^\d\d_[a-z0-9_]+\.py$/, `${name} does not follow NN_name.py`);
      assert.ok(existsSync(join(corpus, name.replace(/\.py$/, '.png'))), `${name} has no PNG; run: node scripts/run.mjs sh -c '$REFIGURE_PYTHON bench/renderCorpus.py'`);
    }
    const numbers = programs.map((name) => name.slice(0, 2));
    assert.equal(new Set(numbers).size, numbers.length, 'two programs share a number');
  });

  test('programs that draw random numbers seed them, and none reads files or the network', () => {
    for (const name of programs) {
      const source = readFileSync(join(corpus, name), 'utf8');
      if (/np\.random\.|\brandom\./.test(source)) {
        assert.match(source, /default_rng\(\d+\)|np\.random\.seed\(\d+\)|random\.seed\(\d+\)/, `${name} uses randomness without a seed`);
        assert.doesNotMatch(source, /default_rng\(\)/, `${name} creates an unseeded generator`);
      }
      assert.doesNotMatch(source, /\bopen\(|urllib|requests|savefig/, `${name} must only draw (no files, network or savefig)`);
      assert.match(source, /^# .+/, `${name} should start with a one-line description`);
    }
  });
});

describe('corpus renders', () => {
  let python = '';
  let work: { dir: string; dispose: () => void };
  let records: Record[] = [];
  let again: Record[] = [];

  type Record = { name: string; png: string; metrics: Metrics | null };
  async function renderAll(out: string): Promise<Record[]> {
    const { stdout } = await execa(python, [join(repoRoot, 'bench', 'renderCorpus.py'), '--check', '--out', out]);
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record);
  }

  before(async () => {
    python = (await findPython({})).path;
    work = scratch('refigure-corpus-');
    [records, again] = await Promise.all([renderAll(join(work.dir, 'a')), renderAll(join(work.dir, 'b'))]);
  });
  after(() => work.dispose());

  test('every program renders the same twice with this interpreter (fidelity >= 0.99)', async () => {
    assert.equal(records.length, programs.length);
    const pairs = records.map((r, i) => [r.png, again[i].png]);
    const scores = await fidelities(python, pairs);
    scores.forEach((score, i) => assert.ok(score >= 0.99, `${records[i].name}: two renders differ (${score})`));
  });

  test('every program still draws its committed PNG, across matplotlib versions (same size, fidelity >= 0.9)', () => {
    // The committed PNGs come from one matplotlib; font hinting and text layout change between versions
    // (3.6 to 3.11 scores 0.93 to 0.99 here), while a changed figure scores below 0.9 and another figure below 0.8.
    for (const record of records) {
      assert.ok(record.metrics, `${record.name}: no committed PNG to compare with`);
      assert.ok(record.metrics.fidelity >= 0.9, `${record.name}: ${JSON.stringify(record.metrics)}`);
      assert.deepEqual(pngSize(record.png), pngSize(join(corpus, `${record.name}.png`)), `${record.name}: size changed`);
    }
  });

  test('the corpus figures are distinct from one another', async () => {
    // Neighbours in the list are different subjects; if two PNGs matched, a program was copied or broken.
    const pairs = records.slice(1).map((r, i) => [join(corpus, `${records[i].name}.png`), join(corpus, `${r.name}.png`)]);
    const scores = await fidelities(python, pairs);
    scores.forEach((score, i) => assert.ok(score < 0.8, `${pairs[i][0]} and ${pairs[i][1]} look alike (${score})`));
  });
});

/** The composite fidelity of each pair of PNGs, by the comparison the render worker uses. */
async function fidelities(python: string, pairs: string[][]): Promise<number[]> {
  const script = `
import sys, json
sys.path.insert(0, sys.argv[1])
from refigure_compare import compare_files
print(json.dumps([compare_files(a, b)["fidelity"] for a, b in json.load(sys.stdin)]))
`;
  const { stdout } = await execa(python, ['-c', script, join(repoRoot, 'python')], { input: JSON.stringify(pairs) });
  return JSON.parse(stdout) as number[];
}
