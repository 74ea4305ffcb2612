// `refigure eval`: data sets, resumable runs over real fixtures with a scripted model, the summary's arithmetic, judge, comparison, CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatContent, Renderer } from '../../src/core/types';
import { createRenderer } from '../../src/core/render/render';
import { createModelClient } from '../../src/core/reconstruct/model';
import { RefigureError } from '../../src/core/errors';
import { loadDataset } from '../../src/core/eval/evalDataset';
import { type EvalRecord, itemSeed, readResults, runEvaluation } from '../../src/core/eval/evalRun';
import { seedsOf } from '../../src/core/eval/runEnvironment';
import { compareRuns, quantile, summarize } from '../../src/core/eval/evalSummary';
import { parseJudgeScore } from '../../src/core/eval/judge';
import { execFile } from 'node:child_process';
import { type RecordedRequest, type Step, startScriptedServer } from '../support/scriptedServer';
import { cliPath, scratch, stemFixtures } from '../support/paths';

const fixtureNames = ['algebra--image305.png', 'algebra--image310.png', 'plane-geometry--image206.png', 'plane-geometry--image26.png'];

const goodCode = [
  'import matplotlib.pyplot as plt',
  'fig, ax = plt.subplots()',
  "ax.plot([0, 1, 2, 3], [0, 1, 4, 9], color='black')",
  "ax.set_title('y = x^2')",
  '',
].join('\n');
const brokenCode = 'import matplotlib.pyplot as plt\nplt.plot(undefined_name)\n';
const answer = (code: string): Step => ({ reply: `\`\`\`python\n${code}\`\`\``, usage: { prompt_tokens: 120, completion_tokens: 30 } });

/** Runs the built command line (`dist/cli.js`) the way a user does; stderr is not a terminal. */
function refigure(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, REFIGURE_PYTHON: process.env.REFIGURE_PYTHON };
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [cliPath, ...args], { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('eval', () => {
  let dir: string;
  let dispose: () => void;
  let set: string;
  let renderer: Renderer;

  before(async () => {
    ({ dir, dispose } = scratch('refigure-eval-'));
    set = join(dir, 'set');
    mkdirSync(set);
    for (const name of fixtureNames) copyFileSync(join(stemFixtures, name), join(set, name));
    writeFileSync(join(set, 'manifest.json'), '{}');
    renderer = await createRenderer({ concurrency: 2 });
  });
  after(async () => {
    await renderer.close();
    dispose();
  });

  test('a folder lists its images sorted by name, nothing else', async () => {
    const items = await loadDataset(set);
    assert.deepEqual(items.map((i) => i.id), [...fixtureNames].sort());
    assert.ok(items.every((i) => existsSync(i.image)));
  });

  test('a STEM2Code-style JSONL: both image part shapes, top-level images, relative paths, reference code', async () => {
    const jsonl = join(dir, 'data.jsonl');
    const user = (part: unknown) => ({ role: 'user', content: [part, { type: 'text', text: 'Reproduce the picture.' }] });
    const records = [
      { messages: [user({ type: 'image', image: `set/${fixtureNames[0]}` }), { role: 'assistant', content: 'Sure.\n```python\nimport matplotlib\nprint(1)\n```' }] },
      { id: 'second', messages: [user({ type: 'image_url', image_url: { url: join(set, fixtureNames[1] as string) } })] },
      { images: [`./set/${fixtureNames[2]}`], messages: [{ role: 'user', content: 'Reproduce it.' }, { role: 'assistant', content: [{ type: 'text', text: '```python\nx = 1\n```' }] }] },
    ];
    writeFileSync(jsonl, `${records.map((r) => JSON.stringify(r)).join('\n')}\n\n`);
    const items = await loadDataset(jsonl);
    assert.deepEqual(
      items.map((i) => i.image),
      [0, 1, 2].map((k) => join(set, fixtureNames[k] as string)),
    );
    assert.equal(items[0]?.referenceCode, 'import matplotlib\nprint(1)\n');
    assert.equal(items[1]?.id, 'second');
    assert.equal(items[1]?.referenceCode, undefined);
    assert.equal(items[2]?.referenceCode, 'x = 1\n');
    assert.equal(new Set(items.map((i) => i.id)).size, 3);

    writeFileSync(jsonl, `${JSON.stringify(records[0])}\n{"messages": [\n`);
    await assert.rejects(loadDataset(jsonl), (e) => e instanceof RefigureError && e.kind === 'input' && /Line 2/.test(e.message));
    writeFileSync(jsonl, `${JSON.stringify({ images: ['nope/missing.png'] })}\n`);
    await assert.rejects(loadDataset(jsonl), (e) => e instanceof RefigureError && /do not exist/.test(e.message) && /missing\.png/.test(e.message));
    writeFileSync(jsonl, `${JSON.stringify({ images: ['https://example.com/a.png'] })}\n`);
    await assert.rejects(loadDataset(jsonl), (e) => e instanceof RefigureError && /local files only/.test(e.message));
  });

  test('a run resumes: finished items are skipped, errored ones retried; the summary adds up', async () => {
    let calls = 0;
    // First request: a server error (the item is retried next run); then alternately good and broken code.
    const server = await startScriptedServer(() => {
      const k = calls++;
      if (k === 0) return { status: 500, body: { error: { message: 'overloaded' } } };
      return answer(k % 2 === 1 ? goodCode : brokenCode);
    });
    try {
      const model = createModelClient({ baseURL: server.url, model: 'scripted-model', maxRetries: 0 });
      const all = await loadDataset(set);
      const outDir = join(dir, 'run-resume');
      const first = await runEvaluation({ items: all.slice(0, 3), outDir, renderer, model, preset: 'generic', concurrency: 2 });
      assert.equal(server.chatRequests().length, 3);
      assert.deepEqual(first.map((r) => r.status).sort(), ['error', 'failed', 'rendered']);

      const events: number[] = [];
      const second = await runEvaluation({
        items: all,
        outDir,
        renderer,
        model,
        preset: 'generic',
        concurrency: 2,
        onProgress: (e) => e.kind === 'start' && events.push(e.resumed),
      });
      assert.deepEqual(events, [2], 'two items were already finished');
      assert.equal(server.chatRequests().length, 5, 'only the errored item and the new one were asked again');
      assert.equal(linesOf(join(outDir, 'results.jsonl')).length, 5);
      assert.deepEqual(second.map((r) => r.id), all.map((i) => i.id));
      assert.equal(second.filter((r) => r.status === 'error').length, 0);
      const reread = await readResults(outDir);
      assert.equal(reread.length, 4, 'the last record per item wins');

      const summary = summarize(second, { dataset: set, items: all.length, settings: {} });
      const rendered = second.filter((r) => r.metrics);
      const fidelities = rendered.map((r) => r.metrics?.fidelity as number).sort((a, b) => a - b);
      assert.equal(summary.evaluated, 4);
      assert.equal(summary.execution.rendered, rendered.length);
      assert.equal(summary.execution.failed, 4 - rendered.length);
      assert.equal(summary.execution.rate, rendered.length / 4);
      assert.ok(Math.abs((summary.fidelity.mean ?? 0) - fidelities.reduce((a, b) => a + b, 0) / fidelities.length) < 1e-12);
      assert.equal(summary.fidelity.median, quantile(fidelities, 0.5));
      assert.equal(summary.fidelity.min, fidelities[0]);
      assert.equal(summary.fidelity.max, fidelities[fidelities.length - 1]);
      assert.ok(Math.abs((summary.fidelityAll ?? 0) - fidelities.reduce((a, b) => a + b, 0) / 4) < 1e-12);
      assert.equal(summary.histogram.counts.reduce((a, b) => a + b, 0), rendered.length);
      assert.equal(summary.tokens.completion, second.reduce((a, r) => a + r.tokens.completion, 0));
      assert.equal(summary.tokens.completion, 4 * 30);
      assert.match(summary.markdown, /\| Model \| Items \| Exec % \|/);
      assert.ok(summary.markdown.includes(`| scripted-model | 4 | ${((rendered.length / 4) * 100).toFixed(1)} |`), summary.markdown);
      const failed = second.find((r) => r.status === 'failed');
      assert.match(failed?.error ?? '', /undefined_name|NameError/);
    } finally {
      await server.close();
    }
  });

  test('each item is asked with its own seed, the same in every run; an endpoint that refuses seeds is asked without', async () => {
    const items = (await loadDataset(set)).slice(0, 2);
    const seedOf = (request: RecordedRequest) => (request.body as { seed?: unknown }).seed;
    const server = await startScriptedServer(() => answer(goodCode));
    const refusing = await startScriptedServer((request) =>
      seedOf(request) !== undefined ? { status: 400, body: { error: { message: "Unsupported parameter: 'seed' is not supported with this model." } } } : answer(goodCode),
    );
    try {
      const expected = Object.fromEntries(items.map((item) => [item.id, itemSeed(item.id)]));
      assert.notEqual(expected[items[0]!.id], expected[items[1]!.id], 'items get different seeds');
      const model = createModelClient({ baseURL: server.url, model: 'scripted-model', maxRetries: 0 });
      for (const name of ['seeded-a', 'seeded-b']) {
        const before = server.chatRequests().length;
        const records = await runEvaluation({ items, outDir: join(dir, name), renderer, model, preset: 'generic' });
        assert.deepEqual(records.map((r) => r.status), ['rendered', 'rendered']);
        assert.deepEqual(seedsOf(records), expected, `${name}: the seeds recorded`);
        assert.deepEqual(server.chatRequests().slice(before).map(seedOf), items.map((item) => expected[item.id]), `${name}: the seeds sent`);
      }

      const refused = await runEvaluation({
        items,
        outDir: join(dir, 'seed-refused'),
        renderer,
        model: createModelClient({ baseURL: refusing.url, model: 'scripted-model', maxRetries: 0 }),
        preset: 'generic',
      });
      assert.deepEqual(refused.map((r) => r.status), ['rendered', 'rendered'], 'the run goes on without seeds');
      assert.equal(seedsOf(refused), null);
      assert.deepEqual(refusing.chatRequests().map((r) => seedOf(r) !== undefined), [true, false, true, false], 'each item asked with its seed, then without');
    } finally {
      await server.close();
      await refusing.close();
    }
  });

  test('an item past --item-timeout is recorded as a timeout and the run goes on', async () => {
    const server = await startScriptedServer([{ endlessSlow: true, intervalMs: 100 }]);
    try {
      const model = createModelClient({ baseURL: server.url, model: 'scripted-model', maxRetries: 0 });
      const items = (await loadDataset(set)).slice(0, 2);
      // The budget is the first item's (its answer never ends); the second, a normal item, must fit in it on a
      // loaded machine too: asking, reading the original's text and rendering take 1–3 s there.
      const records = await runEvaluation({ items, outDir: join(dir, 'run-timeout'), renderer, model, preset: 'generic', concurrency: 1, itemTimeoutMs: 8000 });
      assert.equal(records[0]?.status, 'timeout');
      assert.equal(records[0]?.metrics, null);
      assert.match(records[0]?.error ?? '', /8 s/);
      assert.equal(records[1]?.status, 'rendered', 'the next item ran normally');
    } finally {
      await server.close();
    }
  });

  test('the judge sees the reference first, then the render, and its Score: N/100 is recorded', async () => {
    const model = await startScriptedServer(() => answer(goodCode));
    const judge = await startScriptedServer(() => ({ reply: 'Completeness 20/30 ... Total 61.\nScore: 61/100', usage: { prompt_tokens: 900, completion_tokens: 40 } }));
    try {
      const items = (await loadDataset(set)).slice(0, 1);
      const [record] = await runEvaluation({
        items,
        outDir: join(dir, 'run-judge'),
        renderer,
        model: createModelClient({ baseURL: model.url, model: 'scripted-model', maxRetries: 0 }),
        judge: createModelClient({ baseURL: judge.url, model: 'judge-model', maxRetries: 0 }),
        preset: 'generic',
      });
      assert.ok(record && record.judge && 'score' in record.judge);
      assert.equal(record.judge.score, parseJudgeScore(record.judge.reply));
      assert.equal(record.judge.tokens, 940);
      const body = (judge.chatRequests()[0] as RecordedRequest).body as { messages: { role: string; content: ChatContent[] | string }[] };
      const parts = body.messages.find((m) => m.role === 'user')?.content as ChatContent[];
      const urls = parts.flatMap((p) => (p.type === 'image_url' ? [p.image_url.url] : []));
      assert.equal(urls[0], `data:image/png;base64,${readFileSync(items[0]?.image as string).toString('base64')}`);
      assert.equal(urls[1], `data:image/png;base64,${readFileSync(join(dir, 'run-judge', record.png as string)).toString('base64')}`);
      const text = parts.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
      assert.ok(text.indexOf('REFERENCE') < text.indexOf('GENERATED'));
      for (const [name, points] of [['Geometric & structural completeness', 30], ['Positional & relational accuracy', 30], ['Text & annotation fidelity', 10], ['Visual & stylistic consistency', 20], ['Clarity & legibility', 10]] as const) {
        assert.ok(text.includes(`${name} (${points} points)`), name);
      }
      const summary = summarize([record], { dataset: set, items: 1, settings: {}, judgeModel: 'judge-model' });
      assert.equal(summary.judge?.score.mean, record.judge.score);
    } finally {
      await model.close();
      await judge.close();
    }
  });

  test('parseJudgeScore takes the last Score: N/100 and clamps it', () => {
    assert.equal(parseJudgeScore('Score: 85/100'), 85);
    assert.equal(parseJudgeScore('**Score:** 72.5 / 100'), 72.5);
    assert.equal(parseJudgeScore('First guess Score: 40/100, revised.\nScore: 55/100'), 55);
    assert.equal(parseJudgeScore('score 140/100'), 100);
    assert.equal(parseJudgeScore('I would give it 8 out of 10.'), undefined);
  });

  test('compareRuns counts wins, losses and ties item by item, a failure counting as 0', () => {
    const rec = (id: string, fidelity: number | null): EvalRecord =>
      ({ id, status: fidelity === null ? 'failed' : 'rendered', metrics: fidelity === null ? null : { fidelity, ssim: 0, pixelMatch: 0, edgeF1: 0, colorDistance: 0 }, model: 'm' }) as EvalRecord;
    const ours = [rec('a', 0.9), rec('b', 0.5), rec('c', 0.701), rec('d', 0.4), rec('e', 0.3)];
    const theirs = [rec('a', 0.8), rec('b', 0.6), rec('c', 0.7), rec('d', null), rec('f', 0.1)];
    const c = compareRuns(ours, theirs, 'other');
    const outcome = Object.fromEntries(c.rows.map((r) => [r.id, r.outcome]));
    assert.deepEqual(outcome, { a: 'win', b: 'loss', c: 'tie', d: 'win', e: 'only-ours', f: 'only-theirs' });
    assert.equal(c.common, 4);
    assert.deepEqual([c.wins, c.losses, c.ties], [2, 1, 1]);
    assert.ok(Math.abs((c.meanDelta ?? 0) - (0.1 - 0.1 + 0.001 + 0.4) / 4) < 1e-9);
    assert.deepEqual(c.execution, { ours: 4, theirs: 3 });
  });

  test('the CLI: offline baseline, resume, refusal to mix settings, and --compare-with', async () => {
    const baseline = join(dir, 'cli-offline');
    const first = await refigure(['eval', set, '--out', baseline, '--offline', '--concurrency', '2'], dir);
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(readFileSync(join(baseline, 'summary.json'), 'utf8'));
    assert.equal(summary.evaluated, 4);
    assert.equal(summary.model, 'offline-trace');
    assert.equal(summary.execution.rate, 1);
    assert.ok(existsSync(join(baseline, 'report.html')));
    assert.equal(readFileSync(join(baseline, 'summary.md'), 'utf8').trim(), summary.markdown);
    assert.ok(first.stdout.includes(summary.markdown), 'the Markdown tables are printed');
    assert.match(first.stderr, /\[#+\] 4\/4 100%/);

    const again = await refigure(['eval', set, '--out', baseline, '--offline'], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Evaluating 0 item\(s\) \(4 already done, skipped\)/);
    assert.equal(linesOf(join(baseline, 'results.jsonl')).length, 4);

    const mixed = await refigure(['eval', set, '--out', baseline, '--offline', '--candidates', '2'], dir);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /other settings \(candidates 1 → 2\)/);
    const noOut = await refigure(['eval', set, '--offline'], dir);
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out/);

    const server = await startScriptedServer(() => answer(goodCode));
    try {
      const run = join(dir, 'cli-model');
      const withModel = await refigure(
        ['eval', set, '--out', run, '--endpoint', server.url, '--model', 'scripted-model', '--preset', 'generic', '--compare-with', baseline, '--json'],
        dir,
      );
      assert.equal(withModel.code, 0, withModel.stderr);
      const compared = JSON.parse(withModel.stdout);
      const ids = (await loadDataset(set)).map((item) => item.id);
      assert.deepEqual(compared.provenance.model.seeds, Object.fromEntries(ids.map((id) => [id, itemSeed(id)])), 'summary.json records the seed of each item');
      const ours = await readResults(run);
      const theirs = await readResults(baseline);
      const expected = compareRuns(ours, theirs, baseline);
      assert.equal(compared.comparison.common, 4);
      assert.deepEqual([compared.comparison.wins, compared.comparison.losses, compared.comparison.ties], [expected.wins, expected.losses, expected.ties]);
      assert.equal(compared.comparison.wins + compared.comparison.losses + compared.comparison.ties, 4);
      assert.match(compared.markdown, /\| vs \| Common items \| Wins \| Losses \| Ties \|/);
    } finally {
      await server.close();
    }
  });
});
