// `npm run bench`: render speed (cold subprocess vs render service vs in-process floor), compare speed, throughput, worker memory.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../src/core/paths';
import { findPython } from '../src/core/python';
import { createRenderer, type RenderService } from '../src/core/render';

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

/** (c) The floor: one warm interpreter that execs each program and saves it; only exec + savefig is timed. */
async function inProcessFloor(python: string, root: string, dir: string): Promise<Map<string, number>> {
  const { stdout } = await execa(python, [join(root, 'bench', 'renderCorpus.py'), '--out', dir, '--repeat', '2']);
  const times = new Map<string, number>();
  for (const line of stdout.trim().split('\n')) {
    const r = JSON.parse(line) as { name: string; seconds: number };
    times.set(r.name, r.seconds);
  }
  return times;
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
  try {
    progress(`(a) cold python subprocess per figure, ${programs.length} figures`);
    const cold = await coldSubprocess(python, programs, join(work, 'cold'));

    progress('(c) in-process floor (one warm interpreter)');
    const floorMap = await inProcessFloor(python, root, join(work, 'floor'));
    const floor = programs.map((p) => floorMap.get(p.stem) ?? NaN);

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

    progress('compare step per image size');
    const { stdout } = await execa(python, [join(root, 'bench', 'compareSpeed.py'), '--sizes', '0.25,1,2', '--runs', '7']);
    const compare = (JSON.parse(stdout) as { compare: CompareRow[] }).compare;

    progress('batch throughput, concurrency 1 and 2');
    const batches = [];
    for (const c of [1, 2]) batches.push(await batch(python, programs, join(work, `batch${c}`), c));

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
      compareShareOfMedianRender2MP: compare2mp.map((r) => ({ figure: r.figure, wall: ratio(r.withDiff.wall, ms(medService)), cpu: ratio(r.withDiff.cpu, ms(medService)) })),
      batches,
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
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
