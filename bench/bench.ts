// `npm run bench`: render speed (cold subprocess vs render service vs in-process floor), compare speed, throughput, worker memory,
// and OCR (time, cache, recall and precision against the text the corpus programs draw).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths';
import { findPython } from '../src/core/render/python';
import { createRenderer, type RenderService } from '../src/core/render/render';
import { requireCode } from '../src/core/reconstruct/extract';
import { readImage } from '../src/core/reconstruct/input';
import { traceToCode } from '../src/core/offline/offline';
import { startScriptedServer } from '../test/support/scriptedServer';
import { createHash } from 'node:crypto';
import { OcrReader, createOcrCache, readText } from '../src/core/fidelity/ocr';
import { matchText, sameText } from '../src/core/fidelity/textMatch';
import { renderTextItems } from '../src/core/fidelity/differences';
import { copyFileSync } from 'node:fs';

const DPI = 100;

interface Program {
  stem: string;
  path: string;
  code: string;
  png: string;
  width: number;
  height: number;
}

interface CompareRow {
  megapixels: number;
  figure: string;
  width: number;
  height: number;
  figures: { wall: number; cpu: number };
  withDiff: { wall: number; cpu: number };
  files: { wall: number; cpu: number };
}

const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (seconds: number): number => Math.round(seconds * 10000) / 10;
const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

function pngSize(path: string): { width: number; height: number } {
  const bytes = readFileSync(path);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function loadCorpus(root: string, limit: number): Program[] {
  const dir = join(root, 'bench', 'corpus');
  return readdirSync(dir)
    .filter((n) => /^\d\d_.*\.py$/.test(n))
    .sort()
    .slice(0, limit)
    .map((name) => {
      const stem = name.slice(0, -3);
      const png = join(dir, `${stem}.png`);
      return { stem, path: join(dir, name), code: readFileSync(join(dir, name), 'utf8'), png, ...pngSize(png) };
    });
}

/** (a) What the STEM2Code-Eval harness does: a fresh `python file.py` per figure that saves its own PNG. */
async function coldSubprocess(python: string, programs: Program[], dir: string): Promise<number[]> {
  const times: number[] = [];
  mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    const out = join(dir, `${p.stem}.png`);
    const file = join(dir, `${p.stem}.py`);
    writeFileSync(file, p.code.replace(/plt\.show\(\)/g, `plt.savefig(${JSON.stringify(out)}, dpi=${DPI})`));
    const started = performance.now();
    await execa(python, [file], { cwd: dir, env: { MPLBACKEND: 'Agg' } });
    times.push((performance.now() - started) / 1000);
    if (!existsSync(out)) throw new Error(`${p.stem}: the cold run saved no PNG`);
  }
  return times;
}

/**
 * (c) The floor: one warm interpreter that execs each program and saves it; only exec + savefig is timed. Each
 * program is also saved with its texts recorded as the worker records them, the two kinds of run interleaved.
 */
async function inProcessFloor(python: string, root: string, dir: string): Promise<Map<string, { plain: number; texts: number }>> {
  const { stdout } = await execa(python, [join(root, 'bench', 'renderCorpus.py'), '--out', dir, '--repeat', '3', '--texts']);
  const times = new Map<string, { plain: number; texts: number }>();
  for (const line of stdout.trim().split('\n')) {
    const r = JSON.parse(line) as { name: string; seconds: number; textsSeconds: number };
    times.set(r.name, { plain: r.seconds, texts: r.textsSeconds });
  }
  return times;
}

/**
 * OCR as the session runs it: a 1-megapixel original read by a reader that was not running (start-up included),
 * then again, then from the cache; and every corpus PNG read and matched against the texts its program draws
 * (read exactly from the render service's render of it), for recall and precision.
 */
async function ocrBench(renderer: RenderService, root: string, programs: Program[], dir: string) {
  mkdirSync(dir, { recursive: true });
  const reader = new OcrReader(join(root, 'dist'));
  try {
    const source = programs.find((p) => p.stem === '13_line_chart') ?? (programs[0] as Program);
    const big = join(dir, 'one-megapixel.png');
    await renderer.convertImage({ input: source.png, output: big, format: 'png', width: 1000, height: 1000 });
    let t = performance.now();
    await reader.read(big);
    const firstMs = performance.now() - t;
    t = performance.now();
    await reader.read(big);
    const againMs = performance.now() - t;
    const cache = createOcrCache();
    await readText(big, { reader, cache });
    t = performance.now();
    for (let i = 0; i < 100; i++) await readText(big, { reader, cache });
    const cachedMs = (performance.now() - t) / 100;
    const rows: { figure: string; ms: number; exact: number; read: number; same: number }[] = [];
    for (const p of programs) {
      const started = performance.now();
      const read = await readText(p.png, { reader });
      const ms = performance.now() - started;
      const drawn = await renderer.render({ code: p.code, like: { path: p.png, width: p.width, height: p.height }, outDir: dir, stem: p.stem, timeoutMs: 60_000 });
      const exact = renderTextItems(drawn.texts ?? []);
      const matched = matchText(read, exact, p);
      rows.push({ figure: p.stem, ms: Math.round(ms), exact: exact.length, read: read.length, same: matched.counts.same });
    }
    const same = rows.reduce((a, r) => a + r.same, 0);
    const exactTotal = rows.reduce((a, r) => a + r.exact, 0);
    const readTotal = rows.reduce((a, r) => a + r.read, 0);
    const byHand = await fixtureTextBench(reader, root);
    return {
      oneMegapixel: { firstMs: Math.round(firstMs), againMs: Math.round(againMs), cachedMs: Math.round(cachedMs * 1000) / 1000 },
      corpusMedianMs: median(rows.map((r) => r.ms)),
      figures: rows.length,
      recall: Math.round((same / Math.max(1, exactTotal)) * 1000) / 1000,
      precision: Math.round((same / Math.max(1, readTotal)) * 1000) / 1000,
      counts: { same, drawn: exactTotal, read: readTotal },
      rows,
      byHand,
    };
  } finally {
    await reader.dispose();
  }
}

/**
 * OCR of real figures against text written down by hand (`bench/fixtureTexts.json`), matched by string alone:
 * each hand-written piece matches at most one piece read (`sameText`: case, spaces, the minus sign, numbers as numbers).
 */
async function fixtureTextBench(reader: OcrReader, root: string) {
  const fixtures = join(root, '..', 'shared', 'fixtures');
  const known = JSON.parse(readFileSync(join(root, 'bench', 'fixtureTexts.json'), 'utf8')) as { figures: Record<string, string[]> };
  const rows: { figure: string; ms: number; written: number; read: number; same: number; missed: string[] }[] = [];
  for (const [figure, written] of Object.entries(known.figures)) {
    const path = join(fixtures, figure);
    if (!existsSync(path)) continue;
    const started = performance.now();
    const read = (await readText(path, { reader })).map((t) => t.text);
    const ms = performance.now() - started;
    const left = [...read];
    const missed: string[] = [];
    for (const text of written) {
      const at = left.findIndex((r) => sameText(text, r));
      if (at >= 0) left.splice(at, 1);
      else missed.push(text);
    }
    rows.push({ figure, ms: Math.round(ms), written: written.length, read: read.length, same: written.length - missed.length, missed });
  }
  const same = rows.reduce((a, r) => a + r.same, 0);
  const written = rows.reduce((a, r) => a + r.written, 0);
  const read = rows.reduce((a, r) => a + r.read, 0);
  return {
    figures: rows.length,
    recall: Math.round((same / Math.max(1, written)) * 1000) / 1000,
    precision: Math.round((same / Math.max(1, read)) * 1000) / 1000,
    counts: { same, written, read },
    rows,
  };
}

/** Resident memory (kB) of a process and all its descendants, from /proc. */
function treeRssKb(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    try {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]);
    } catch {
      // Gone.
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function serviceRun(
  renderer: RenderService,
  programs: Program[],
  dir: string,
  like: boolean,
): Promise<{ times: number[]; fidelities: number[] }> {
  const times: number[] = [];
  const fidelities: number[] = [];
  for (const p of programs) {
    const started = performance.now();
    const outcome = await renderer.render({
      code: p.code,
      outDir: dir,
      stem: p.stem,
      timeoutMs: 60_000,
      ...(like ? { like: { path: p.png, width: p.width, height: p.height } } : {}),
    });
    times.push((performance.now() - started) / 1000);
    if (!outcome.ok) throw new Error(`${p.stem}: the render service failed: ${outcome.error?.message ?? 'unknown'}`);
    if (outcome.metrics) fidelities.push(outcome.metrics.fidelity);
  }
  return { times, fidelities };
}

/** From the model's reply to a panel-ready result: extract the code, render at the original's size, compare, write the diff. */
async function replyToResult(renderer: RenderService, programs: Program[], dir: string): Promise<number[]> {
  const times: number[] = [];
  for (const p of programs) {
    const reply = `Here is the code.\n\n\`\`\`python\n${p.code}\n\`\`\`\n`;
    const started = performance.now();
    const code = requireCode(reply);
    const outcome = await renderer.render({ code, outDir: dir, stem: `${p.stem}-reply`, timeoutMs: 60_000, like: { path: p.png, width: p.width, height: p.height } });
    times.push((performance.now() - started) / 1000);
    if (!outcome.ok || !outcome.metrics || !outcome.diffPng) throw new Error(`${p.stem}: no panel-ready result`);
  }
  return times;
}

/** The first render of a service that was not running yet (what the first Reconstruct after activation waits for). */
async function firstRender(python: string, program: Program, dir: string): Promise<number> {
  const started = performance.now();
  const renderer = await createRenderer({ python, concurrency: 1 });
  try {
    const outcome = await renderer.render({ code: program.code, outDir: dir, stem: `${program.stem}-first`, timeoutMs: 60_000 });
    if (!outcome.ok) throw new Error(`${program.stem}: the first render failed: ${outcome.error?.message ?? 'unknown'}`);
    return (performance.now() - started) / 1000;
  } finally {
    await renderer.close();
  }
}

/** The offline provider on the shared STEM fixtures: trace time, code size, and fidelity through the same render and compare. */
async function offlineTrace(renderer: RenderService, fixtures: string, dir: string) {
  const rows: Array<{ figure: string; megapixels: number; traceSeconds: number; codeKb: number; paths: number; rendered: boolean; fidelity: number | null }> = [];
  for (const name of readdirSync(fixtures).filter((n) => n.endsWith('.png')).sort()) {
    const info = await readImage(join(fixtures, name));
    const trace = await traceToCode(info, renderer, { scratchDir: dir });
    const outcome = await renderer.render({ code: trace.code, outDir: dir, stem: name.slice(0, -4), timeoutMs: 60_000, like: { path: info.path, width: info.width, height: info.height } });
    rows.push({
      figure: name,
      megapixels: Math.round((info.width * info.height) / 10_000) / 100,
      traceSeconds: Math.round(trace.seconds * 1000) / 1000,
      codeKb: Math.round(trace.codeBytes / 102.4) / 10,
      paths: trace.paths,
      rendered: outcome.ok,
      fidelity: outcome.metrics?.fidelity ?? null,
    });
  }
  const fidelities = rows.flatMap((r) => (r.fidelity === null ? [] : [r.fidelity]));
  const upTo1Mp = rows.filter((r) => r.megapixels <= 1).map((r) => r.traceSeconds);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const spread = (xs: number[]) => ({ min: round(Math.min(...xs)), median: round(median(xs)), max: round(Math.max(...xs)) });
  return {
    figures: rows.length,
    rendered: rows.filter((r) => r.rendered).length,
    fidelity: spread(fidelities),
    codeKb: spread(rows.map((r) => r.codeKb)),
    traceSecondsUpTo1Mp: spread(upTo1Mp),
    rows,
  };
}

async function batch(python: string, programs: Program[], dir: string, concurrency: number) {
  const renderer = await createRenderer({ python, concurrency });
  try {
    // Start every worker before timing: throughput is about warm workers.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([0, 1])', outDir: dir, stem: `warm${i}`, timeoutMs: 60_000 })));
    let peakKb = 0;
    const sample = () => {
      const kb = renderer.workerPids().reduce((sum, pid) => sum + treeRssKb(pid), 0);
      peakKb = Math.max(peakKb, kb);
    };
    const idleKb = renderer.workerPids().reduce((sum, pid) => sum + treeRssKb(pid), 0);
    const timer = setInterval(sample, 50);
    const started = performance.now();
    const outcomes = await Promise.all(
      programs.map((p) => renderer.render({ code: p.code, outDir: dir, stem: `${p.stem}-c${concurrency}`, timeoutMs: 60_000 })),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    const failed = outcomes.filter((o) => !o.ok).length;
    return {
      concurrency,
      figures: programs.length,
      failed,
      seconds: Math.round(seconds * 100) / 100,
      figuresPerSecond: Math.round((programs.length / seconds) * 100) / 100,
      workerRssMb: { idle: Math.round(idleKb / 1024), peak: Math.round(peakKb / 1024), workers: renderer.workerPids().length },
      sandbox: renderer.sandbox,
    };
  } finally {
    await renderer.close();
  }
}

/**
 * `refigure eval` end to end, as a user runs it: the CLI process over a folder of `programs.length`
 * figures, a scripted model on 127.0.0.1 answering each with its program. Start-up (Node, the worker's
 * imports, the font cache) is measured apart, by an eval of one figure: startup = T(1) - T(n)/n.
 */
async function evalRun(root: string, python: string, programs: Program[], dir: string, concurrency: number) {
  const byHash = new Map(programs.map((p) => [createHash('sha256').update(readFileSync(p.png)).digest('hex'), p]));
  const server = await startScriptedServer((request) => {
    const body = JSON.stringify(request.body ?? '');
    const data = /data:image\/png;base64,([A-Za-z0-9+/=]+)/.exec(body)?.[1];
    const program = data ? byHash.get(createHash('sha256').update(Buffer.from(data, 'base64')).digest('hex')) : undefined;
    return { reply: `Here is the code.\n\n\`\`\`python\n${(program ?? programs[0]).code}\`\`\`\n`, chunkSize: 4096 };
  });
  const run = async (items: Program[], name: string) => {
    const data = join(dir, `${name}-data`);
    mkdirSync(data, { recursive: true });
    for (const p of items) copyFileSync(p.png, join(data, `${p.stem}.png`));
    const started = performance.now();
    const result = await execa(process.execPath, [join(root, 'dist', 'cli.js'), 'eval', data, '--out', join(dir, `${name}-out`), '--endpoint', server.url, '--model', 'bench', '--concurrency', String(concurrency), '--python', python], {
      reject: false,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const seconds = (performance.now() - started) / 1000;
    if (result.exitCode !== 0) throw new Error(`refigure eval failed (exit ${result.exitCode}): ${String(result.stderr).slice(-800)}`);
    return seconds;
  };
  try {
    const one = await run(programs.slice(0, 1), `one-c${concurrency}`);
    const all = await run(programs, `all-c${concurrency}`);
    return { concurrency, figures: programs.length, seconds: Math.round(all * 100) / 100, startupSeconds: Math.round((one - all / programs.length) * 100) / 100 };
  } finally {
    await server.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const limitArg = argv.indexOf('--limit');
  const limit = limitArg >= 0 ? Number(argv[limitArg + 1]) : Infinity;
  const root = packageRoot();
  const info = await findPython({});
  const python = info.path;
  const programs = loadCorpus(root, limit);
  const work = mkdtempSync(join(tmpdir(), 'refigure-bench-'));
  const progress = (message: string) => {
    if (!json) process.stderr.write(`… ${message}\n`);
  };
  if (argv.includes('--ocr-only')) {
    // Quick look at OCR alone: time, cache, and recall and precision on the corpus.
    const renderer = await createRenderer({ python: info, concurrency: 1 });
    try {
      const o = await ocrBench(renderer, root, programs, join(work, 'ocr'));
      process.stdout.write(`${JSON.stringify({ ...o, rows: undefined })}\n`);
    } finally {
      await renderer.close();
      rmSync(work, { recursive: true, force: true });
    }
    return;
  }
  if (argv.includes('--eval-only')) {
    // Quick look at the CLI's eval against cold subprocesses, without the rest of the bench.
    const evalPrograms = programs.slice(0, 16);
    const cold = await coldSubprocess(python, evalPrograms, join(work, 'cold'));
    const coldTotal = cold.reduce((a, b) => a + b, 0);
    for (const c of [1, 2]) {
      const e = await evalRun(root, python, evalPrograms, join(work, `eval${c}`), c);
      process.stdout.write(`eval concurrency ${c}: ${e.seconds} s (start-up ${e.startupSeconds} s); cold × ${evalPrograms.length}: ${Math.round(coldTotal * 100) / 100} s; cold / eval = ${ratio(coldTotal, e.seconds)}×\n`);
    }
    rmSync(work, { recursive: true, force: true });
    return;
  }
  try {
    progress(`(a) cold python subprocess per figure, ${programs.length} figures`);
    const cold = await coldSubprocess(python, programs, join(work, 'cold'));

    progress('(c) in-process floor (one warm interpreter)');
    const floorMap = await inProcessFloor(python, root, join(work, 'floor'));
    const floor = programs.map((p) => floorMap.get(p.stem)?.plain ?? NaN);
    const floorTexts = programs.map((p) => floorMap.get(p.stem)?.texts ?? NaN);

    progress('(b) render service, one worker');
    const renderer = await createRenderer({ python: info, concurrency: 1 });
    let service: number[];
    let serviceLike: { times: number[]; fidelities: number[] };
    let sandbox: string;
    try {
      await renderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([0, 1])', outDir: join(work, 'svc'), stem: 'warm', timeoutMs: 60_000 });
      service = (await serviceRun(renderer, programs, join(work, 'svc'), false)).times;
      serviceLike = await serviceRun(renderer, programs, join(work, 'svc-like'), true);
      sandbox = renderer.sandbox;
    } finally {
      await renderer.close();
    }

    progress('first render of a service that was not running, and model reply to panel-ready result');
    for (const sub of ['first', 'reply', 'offline']) mkdirSync(join(work, sub), { recursive: true });
    const firstProgram = programs[0] as Program;
    const firstTimes: number[] = [];
    const coldFirst: number[] = [];
    for (let i = 0; i < 3; i++) {
      firstTimes.push(await firstRender(python, firstProgram, join(work, 'first')));
      coldFirst.push((await coldSubprocess(python, [firstProgram], join(work, 'cold-first')))[0] as number);
    }
    const replyRenderer = await createRenderer({ python: info, concurrency: 1 });
    let reply: number[];
    let offline: Awaited<ReturnType<typeof offlineTrace>> | undefined;
    let ocr: Awaited<ReturnType<typeof ocrBench>> | undefined;
    try {
      await replyRenderer.render({ code: 'import matplotlib.pyplot as plt\nplt.plot([0, 1])', outDir: join(work, 'reply'), stem: 'warm', timeoutMs: 60_000 });
      reply = await replyToResult(replyRenderer, programs, join(work, 'reply'));
      progress('OCR: a 1-megapixel original, the cache, and recall and precision on the corpus');
      ocr = await ocrBench(replyRenderer, root, programs, join(work, 'ocr'));
      const fixtures = join(root, '..', 'shared', 'fixtures', 'stem');
      if (!argv.includes('--no-offline') && existsSync(fixtures)) {
        progress('offline trace over the shared STEM fixtures');
        offline = await offlineTrace(replyRenderer, fixtures, join(work, 'offline'));
      }
    } finally {
      await replyRenderer.close();
    }

    progress('compare step per image size');
    const { stdout } = await execa(python, [join(root, 'bench', 'compareSpeed.py'), '--sizes', '0.25,1,2', '--runs', '7']);
    const compare = (JSON.parse(stdout) as { compare: CompareRow[] }).compare;

    progress('batch throughput, concurrency 1 and 2');
    const batches = [];
    for (const c of [1, 2]) batches.push(await batch(python, programs, join(work, `batch${c}`), c));

    const evalPrograms = programs.slice(0, 16);
    progress(`refigure eval of ${evalPrograms.length} one-figure items, concurrency 1 and 2, against a cold \`python file.py\` per figure`);
    const evals = [];
    for (const c of [1, 2]) evals.push(await evalRun(root, python, evalPrograms, join(work, `eval${c}`), c));
    const coldTotal = cold.slice(0, evalPrograms.length).reduce((a, b) => a + b, 0);

    const medCold = median(cold);
    const medService = median(service);
    const medFloor = median(floor);
    const compare2mp = compare.filter((r) => r.megapixels === 2);
    const result = {
      machine: { cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), python: `${info.path} ${info.version}`, matplotlib: info.matplotlib },
      corpus: programs.length,
      dpi: DPI,
      renderMs: {
        coldSubprocess: ms(medCold),
        service: ms(medService),
        serviceWithCompare: ms(median(serviceLike.times)),
        inProcessFloor: ms(medFloor),
      },
      ratios: { coldOverService: ratio(medCold, medService), serviceOverFloor: ratio(medService, medFloor) },
      sandbox,
      serviceReproducesCorpus: { minFidelity: serviceLike.fidelities.length ? Math.min(...serviceLike.fidelities) : null },
      compare,
      firstRenderMs: { service: ms(median(firstTimes)), coldSubprocess: ms(median(coldFirst)), ratio: ratio(median(firstTimes), median(coldFirst)) },
      replyToResultMs: ms(median(reply)),
      // What compare + diff add to a render at the corpus's own sizes, as a share of the median render.
      compareShareOfMedianRender: ratio(median(serviceLike.times) - medService, medService),
      // What recording the render's texts adds to exec + savefig, in one interpreter, runs interleaved.
      textsShareOfFloor: ratio(median(floorTexts) - medFloor, medFloor),
      ocr: ocr ? { ...ocr, rows: undefined } : null,
      ocrRows: ocr?.rows ?? [],
      throughputRatio: batches.length === 2 ? ratio((batches[1] as { figuresPerSecond: number }).figuresPerSecond, (batches[0] as { figuresPerSecond: number }).figuresPerSecond) : null,
      offline: offline ? { ...offline, rows: undefined } : null,
      offlineRows: offline?.rows ?? [],
      compareShareOfMedianRender2MP: compare2mp.map((r) => ({ figure: r.figure, wall: ratio(r.withDiff.wall, ms(medService)), cpu: ratio(r.withDiff.cpu, ms(medService)) })),
      batches,
      eval: {
        figures: evalPrograms.length,
        coldSubprocessSeconds: Math.round(coldTotal * 100) / 100,
        runs: evals,
        coldOverEval: ratio(coldTotal, (evals[0] as { seconds: number }).seconds),
        coldOverEvalConcurrency2: ratio(coldTotal, (evals[1] as { seconds: number }).seconds),
        concurrency2OverConcurrency1: ratio((evals[0] as { seconds: number }).seconds, (evals[1] as { seconds: number }).seconds),
      },
      perFigureMs: programs.map((p, i) => ({ figure: p.stem, cold: ms(cold[i]), service: ms(service[i]), floor: ms(floor[i]) })),
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines: string[] = [];
    const row = (cells: Array<string | number>, widths: number[]) =>
      cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
    lines.push(`Refigure bench — ${programs.length} corpus figures at ${DPI} dpi, ${result.machine.cpus} cores, load ${result.machine.loadAverage.join(' ')}, ${result.machine.python}, matplotlib ${info.matplotlib}, sandbox ${sandbox}`);
    lines.push('');
    lines.push('Median render time per figure');
    const w1 = [44, 10];
    lines.push(row(['(a) cold `python file.py` + savefig', `${result.renderMs.coldSubprocess} ms`], w1));
    lines.push(row(['(b) render service (warm worker, fork)', `${result.renderMs.service} ms`], w1));
    lines.push(row(['    … with fit + compare + diff (like=)', `${result.renderMs.serviceWithCompare} ms`], w1));
    lines.push(row(['(c) in-process floor (exec + savefig)', `${result.renderMs.inProcessFloor} ms`], w1));
    lines.push(row(['(a)/(b)', `${result.ratios.coldOverService}×`], w1));
    lines.push(row(['(b)/(c)', `${result.ratios.serviceOverFloor}×`], w1));
    lines.push(row(['service render vs committed PNG, min fidelity', String(result.serviceReproducesCorpus.minFidelity)], w1));
    lines.push(row(['compare + diff, share of the median render', `${Math.round(result.compareShareOfMedianRender * 100)} %`], w1));
    lines.push(row(["recording the render's texts, share of (c)", `${Math.round(result.textsShareOfFloor * 100)} %`], w1));
    lines.push(row(['model reply → panel-ready result (median)', `${result.replyToResultMs} ms`], w1));
    lines.push(row(['first render, service not yet running', `${result.firstRenderMs.service} ms`], w1));
    lines.push(row(['    vs a cold subprocess of the same figure', `${result.firstRenderMs.coldSubprocess} ms (${result.firstRenderMs.ratio}×)`], w1));
    lines.push('');
    lines.push('Compare step (median ms, wall / cpu)');
    const w2 = [24, 11, 16, 16, 18];
    lines.push(row(['figure', 'size', 'figures', '+ diff PNG', 'files (decode)'], w2));
    for (const r of compare) {
      lines.push(row([r.figure, `${r.width}×${r.height}`, `${r.figures.wall} / ${r.figures.cpu}`, `${r.withDiff.wall} / ${r.withDiff.cpu}`, `${r.files.wall} / ${r.files.cpu}`], w2));
    }
    for (const s of result.compareShareOfMedianRender2MP) {
      lines.push(`compare + diff at 2 MP (${s.figure}) = ${Math.round(s.wall * 100)} % (wall) / ${Math.round(s.cpu * 100)} % (cpu) of the median service render`);
    }
    lines.push('');
    lines.push('Batch throughput (render service)');
    const w3 = [12, 10, 14, 26];
    lines.push(row(['concurrency', 'seconds', 'figures/s', 'worker RSS idle/peak MB'], w3));
    for (const b of batches) lines.push(row([b.concurrency, b.seconds, b.figuresPerSecond, `${b.workerRssMb.idle} / ${b.workerRssMb.peak}`], w3));
    if (result.throughputRatio !== null) lines.push(`concurrency 2 / concurrency 1 = ${result.throughputRatio}×`);
    lines.push('');
    lines.push(`\`refigure eval\` of ${result.eval.figures} one-figure items (whole CLI run, scripted model on 127.0.0.1)`);
    const w4 = [40, 12, 16];
    lines.push(row(['', 'seconds', 'start-up s'], w4));
    lines.push(row([`cold \`python file.py\` × ${result.eval.figures}`, result.eval.coldSubprocessSeconds, '—'], w4));
    for (const e of result.eval.runs) lines.push(row([`refigure eval --concurrency ${e.concurrency}`, e.seconds, e.startupSeconds], w4));
    lines.push(`cold / eval = ${result.eval.coldOverEval}× (concurrency 1), ${result.eval.coldOverEvalConcurrency2}× (concurrency 2); eval concurrency 2 / 1 = ${result.eval.concurrency2OverConcurrency1}×`);
    if (ocr) {
      lines.push('');
      lines.push(`OCR (Tesseract in a worker thread, bundled English data)`);
      lines.push(`  a 1-megapixel original: ${ocr.oneMegapixel.firstMs} ms the first time (reader start-up included), ${ocr.oneMegapixel.againMs} ms again, ${ocr.oneMegapixel.cachedMs} ms from the cache`);
      lines.push(`  the ${ocr.figures} corpus figures: median ${ocr.corpusMedianMs} ms; recall ${ocr.recall} (${ocr.counts.same} of ${ocr.counts.drawn} texts drawn), precision ${ocr.precision} (${ocr.counts.same} of ${ocr.counts.read} read)`);
      const h = ocr.byHand;
      if (h.figures) lines.push(`  ${h.figures} shared fixtures against text written by hand: recall ${h.recall} (${h.counts.same} of ${h.counts.written}), precision ${h.precision} (${h.counts.same} of ${h.counts.read} read)`);
    }
    if (offline) {
      const o = offline;
      lines.push('');
      lines.push(`Offline trace over ${o.figures} shared STEM fixtures: ${o.rendered} rendered`);
      lines.push(`  fidelity  min ${o.fidelity.min}  median ${o.fidelity.median}  max ${o.fidelity.max}`);
      lines.push(`  code KB   min ${o.codeKb.min}  median ${o.codeKb.median}  max ${o.codeKb.max}`);
      lines.push(`  trace s (≤ 1 MP)  min ${o.traceSecondsUpTo1Mp.min}  median ${o.traceSecondsUpTo1Mp.median}  max ${o.traceSecondsUpTo1Mp.max}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
