// An eval over a JSONL with reference code, through the built CLI and a scripted model: the code figures, the
// paper's table, the recorded environment, a rerun that reproduces it byte for byte, one under another matplotlib
// that says what differs, and the paired test of --compare-with.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type RenderService, createRenderer } from '../../src/core/render/render';
import type { EvalRecord } from '../../src/core/eval/evalRun';
import type { EvalSummary } from '../../src/core/eval/evalSummary';
import type { Reproduction } from '../../src/core/eval/evalRerun';
import { type ScriptedServer, startScriptedServer } from '../support/scriptedServer';
import { cliPath, repoRoot, scratch } from '../support/paths';

const python = process.env.REFIGURE_PYTHON ?? join(repoRoot, '.refigure-tools', 'venv', 'bin', 'python');
/** A second interpreter with another matplotlib (3.10); the test that needs it says so when it is missing. */
const otherPython = process.env.REFIGURE_OTHER_PYTHON ?? '/tmp/compat-venv/bin/python';
const pairs = join(repoRoot, 'test', 'fixtures', 'pairs');
const base = readFileSync(join(pairs, 'base.py'), 'utf8');
const variants = JSON.parse(readFileSync(join(pairs, 'variants.json'), 'utf8')) as Record<string, { replace: [string, string] }>;
const variant = (name: string) => base.replace(...(variants[name] as { replace: [string, string] }).replace);

function refigure(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, REFIGURE_PYTHON: python, REFIGURE_API_KEY: 'secret-key-never-written' };
  return new Promise((done) => {
    execFile(process.execPath, [cliPath, ...args], { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const records = (dir: string) => readFileSync(join(dir, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as EvalRecord);
const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as EvalSummary;
const reproductionOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'reproduction.json'), 'utf8')) as Reproduction;

describe('eval with reference code, reruns and significance', () => {
  let dir: string;
  let dispose: () => void;
  let server: ScriptedServer;
  let renderer: RenderService;
  let dataset: string;
  let run: string;
  /** The answers the scripted model gives, one per item in order. */
  let answers: string[] = [];
  let asked = 0;

  before(async () => {
    ({ dir, dispose } = scratch('refigure-evalrerun-'));
    renderer = await createRenderer();
    const figure = await renderer.render({ code: base, outDir: dir, stem: 'figure' });
    assert.ok(figure.ok && figure.png);
    const reference = `Here it is.\n\`\`\`python\n${base}\`\`\``;
    const record = (id: string, domain: string) => ({ id, domain, messages: [{ role: 'user', content: [{ type: 'image', image: 'figure.png' }] }, { role: 'assistant', content: reference }] });
    dataset = join(dir, 'data.jsonl');
    writeFileSync(dataset, ['same', 'label', 'colour', 'broken'].map((id, i) => JSON.stringify(record(id, i < 2 ? 'geometry' : 'charts'))).join('\n'));
    server = await startScriptedServer(() => ({ reply: `\`\`\`python\n${answers[asked++ % answers.length]}\`\`\``, usage: { prompt_tokens: 10, completion_tokens: 10 } }));
    answers = [base, variant('label'), variant('colour'), 'import matplotlib.pyplot as plt\nplt.plot(undefined_name)\n'];
    run = join(dir, 'run');
    const result = await refigure(['eval', dataset, '--out', run, '--endpoint', server.url, '--model', 'scripted', '--concurrency', '1'], dir);
    assert.equal(result.code, 0, result.stderr);
  });
  after(async () => {
    await server?.close();
    await renderer?.close();
    dispose();
  });

  test('each item carries its code figures against the reference; the broken answer has none', () => {
    const byId = new Map(records(run).map((r) => [r.id, r]));
    assert.deepEqual(byId.get('same')?.reference?.figures, { textF1: 1, typeF1: 1, colorF1: 1, layoutF1: 1, geometry: 1 });
    const label = byId.get('label')?.reference?.figures;
    assert.ok(label && (label.textF1 as number) < 1 && label.colorF1 === 1);
    const colour = byId.get('colour')?.reference?.figures;
    assert.ok(colour && (colour.colorF1 as number) < 1 && colour.textF1 === 1);
    assert.equal(byId.get('broken')?.reference?.ok, true);
    assert.equal(byId.get('broken')?.reference?.figures, null);
    assert.ok(existsSync(join(run, 'items', 'same', 'reference.py')));
  });

  test('summary.json records the environment, the model side and the data set, never the key', () => {
    const summary = summaryOf(run);
    const p = summary.provenance;
    assert.ok(p);
    assert.match(p.environment.matplotlib ?? '', /^\d+\.\d+/);
    assert.ok(p.environment.python && p.environment.numpy && p.environment.pillow && p.environment.freetype);
    assert.equal(p.environment.backend?.toLowerCase(), 'agg');
    assert.equal(p.environment.dpi, 100);
    assert.ok(p.environment.fonts.includes('DejaVu Sans'));
    assert.equal(p.environment.refigure, JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    assert.equal(p.model.model, 'scripted');
    assert.equal(p.model.endpoint, server.url);
    assert.equal((p.model.sampling as { temperature: number }).temperature, 0.7);
    assert.match(p.dataset.sha256, /^[0-9a-f]{64}$/);
    assert.ok(!readFileSync(join(run, 'summary.json'), 'utf8').includes('secret-key-never-written'));
  });

  test('the table: execution with and without shims, the code figures with intervals, a row per domain', () => {
    const table = summaryOf(run).table;
    assert.ok(table);
    assert.deepEqual(table.rows.map((r) => r.group), ['all', 'charts', 'geometry']);
    const all = table.rows[0]!;
    assert.equal(all.execution.mean, 0.75);
    assert.equal(all.rawExecution.mean, 0.75);
    assert.equal(all.withReference, 4);
    // textF1 over the four: 1, 0.95, 1 and 0 for the answer that did not render.
    assert.ok(Math.abs((all.code.textF1.mean as number) - 2.95 / 4) < 1e-9);
    assert.ok((all.code.textF1.low as number) <= (all.code.textF1.mean as number) && (all.code.textF1.high as number) >= (all.code.textF1.mean as number));
    assert.equal(table.rows[2]!.execution.mean, 1);
    assert.match(readFileSync(join(run, 'summary.md'), 'utf8'), /\| all \| 4 \| 75\.0 \[/);
  });

  test('--rerun reproduces every figure and every render byte for byte, without asking the model', async () => {
    const before_ = server.chatRequests().length;
    const again = join(dir, 'again');
    const result = await refigure(['eval', '--rerun', run, '--out', again], dir);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(server.chatRequests().length, before_);
    const reproduction = reproductionOf(again);
    assert.equal(reproduction.exact, true, JSON.stringify(reproduction.differences));
    assert.equal(reproduction.reproduced, 4);
    const old = records(run);
    const now = records(again);
    assert.deepEqual(now.map((r) => [r.renderSha256, r.metrics, r.reference?.figures]), old.map((r) => [r.renderSha256, r.metrics, r.reference?.figures]));
    assert.ok(now.filter((r) => r.renderSha256).length === 3);
    assert.match(result.stdout, /4 of 4 item\(s\) reproduced exactly/);
  });

  test('a rerun under another matplotlib names the version change and the figures that moved', async (t) => {
    if (!existsSync(otherPython)) return t.skip(`no second interpreter at ${otherPython}`);
    const other = join(dir, 'other');
    const result = await refigure(['eval', '--rerun', run, '--out', other, '--python', otherPython], dir);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const reproduction = reproductionOf(other);
    assert.equal(reproduction.exact, false);
    const change = reproduction.environment.find((c) => c.field === 'matplotlib');
    assert.ok(change && change.before !== change.after, JSON.stringify(reproduction.environment));
    assert.ok(reproduction.differences.some((d) => d.figure === 'render'), JSON.stringify(reproduction.differences));
    assert.match(result.stdout, /matplotlib/);
    t.diagnostic(JSON.stringify({ environment: reproduction.environment, differing: [...new Set(reproduction.differences.map((d) => d.figure))] }));
  });

  test('--compare-with adds a paired bootstrap and a sign test', async () => {
    answers = [variant('line'), variant('label'), variant('colour'), base];
    asked = 0;
    const second = join(dir, 'second');
    const result = await refigure(['eval', dataset, '--out', second, '--endpoint', server.url, '--model', 'scripted-2', '--concurrency', '1', '--compare-with', run], dir);
    assert.equal(result.code, 0, result.stderr);
    const c = summaryOf(second).comparison;
    assert.ok(c?.significance);
    assert.equal(c.significance.n, 4);
    assert.equal(c.significance.wins, c.wins);
    assert.equal(c.significance.losses, c.losses);
    assert.ok(c.wins >= 1, 'rendering where the other run failed is a win');
    assert.match(readFileSync(join(second, 'summary.md'), 'utf8'), /Sign test p/);
  });
});
