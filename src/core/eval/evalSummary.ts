// `refigure eval`'s summary: execution rate, figure distributions, judge scores, run-against-run comparison, Markdown tables.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metrics, ReconstructionResult } from '../types';
import { round3, sum } from '../../shared/values';
import type { EvalRecord } from './evalRun';
import { type PaperTable, paperTable } from './evalTable';
import type { RunProvenance } from './runEnvironment';
import { type PairedTest, pairedTest } from './stats';

// ─── Summary ────────────────────────────────────────────────────────────────

export interface Distribution {
  n: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  p10: number | null;
  p25: number | null;
  median: number | null;
  p75: number | null;
  p90: number | null;
  max: number | null;
}

export interface EvalSummary {
  version: 1;
  dataset: string;
  model: string;
  provider: ReconstructionResult['provider'];
  settings: Record<string, string | number | boolean | null>;
  items: number;
  /** Items with a record other than `error`: the denominator of every rate. */
  evaluated: number;
  execution: { rendered: number; failed: number; timeouts: number; errors: number; rate: number | null; firstAnswerRate: number | null };
  /** Over rendered items. */
  fidelity: Distribution;
  /** Mean fidelity with items that did not render counted as 0 (comparable to the paper's scores). */
  fidelityAll: number | null;
  /** Fidelity of the first answer over items whose first answer rendered. */
  firstFidelity: Distribution;
  histogram: { edges: number[]; counts: number[] };
  ssim: Distribution;
  edgeF1: Distribution;
  pixelMatch: Distribution;
  colorDistance: Distribution;
  /** Text agreement (README, "textF1") over rendered items whose original's text was read. */
  textF1?: Distribution;
  /** Mean confident text differences and difference-map regions per rendered item. */
  differences?: { text: number | null; ink: number | null };
  rounds: { mean: number | null; total: number; counts: Record<string, number> };
  tokens: { prompt: number; completion: number; meanPerItem: number | null };
  seconds: { total: number; mean: number | null; median: number | null; wall?: number };
  judge?: { model: string; judged: number; errors: number; score: Distribution; scoreAll: number | null };
  comparison?: Comparison;
  /** Everything a rerun needs besides the run folder: the environment, the model side, the data set's hash. */
  provenance?: RunProvenance;
  /** The paper's table: execution (raw and with shims), image score, fidelity, reference-code figures; overall and per domain. */
  table?: PaperTable;
  markdown: string;
}

/** Quantile with linear interpolation between order statistics (numpy's default, "type 7"). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n ? sum(sorted) / n : null;
  const std = n && mean !== null ? Math.sqrt(sum(sorted.map((v) => (v - mean) ** 2)) / n) : null;
  return {
    n,
    mean,
    std,
    min: n ? (sorted[0] as number) : null,
    p10: quantile(sorted, 0.1),
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
    max: n ? (sorted[n - 1] as number) : null,
  };
}

/** Ten bins of width 0.1 over [0, 1]; 1.0 falls in the last bin. */
export function histogram(values: readonly number[]): { edges: number[]; counts: number[] } {
  const counts = new Array<number>(10).fill(0);
  for (const v of values) counts[Math.min(9, Math.max(0, Math.floor(v * 10)))]! += 1;
  return { edges: Array.from({ length: 11 }, (_, i) => i / 10), counts };
}

export function summarize(
  records: readonly EvalRecord[],
  meta: { dataset: string; items: number; settings: EvalSummary['settings']; judgeModel?: string; wallSeconds?: number; comparison?: Comparison; provenance?: RunProvenance },
): EvalSummary {
  const evaluated = records.filter((r) => r.status !== 'error');
  const rendered = evaluated.filter((r) => r.metrics);
  const metric = (key: 'fidelity' | 'ssim' | 'pixelMatch' | 'edgeF1' | 'colorDistance') => rendered.map((r) => (r.metrics as Metrics)[key]);
  const fidelities = metric('fidelity');
  const n = evaluated.length;
  const roundCounts: Record<string, number> = {};
  for (const r of evaluated) roundCounts[String(r.rounds)] = (roundCounts[String(r.rounds)] ?? 0) + 1;
  const prompt = sum(evaluated.map((r) => r.tokens.prompt));
  const completion = sum(evaluated.map((r) => r.tokens.completion));
  const seconds = evaluated.map((r) => r.seconds);
  const first = records[0];
  const summary: EvalSummary = {
    version: 1,
    dataset: meta.dataset,
    model: first?.model ?? String(meta.settings.model ?? ''),
    provider: first?.provider ?? 'offline',
    settings: meta.settings,
    items: meta.items,
    evaluated: n,
    execution: {
      rendered: rendered.length,
      failed: evaluated.filter((r) => r.status === 'failed').length,
      timeouts: evaluated.filter((r) => r.status === 'timeout').length,
      errors: records.length - n,
      rate: n ? rendered.length / n : null,
      firstAnswerRate: n ? evaluated.filter((r) => r.firstRendered).length / n : null,
    },
    fidelity: distribution(fidelities),
    fidelityAll: n ? sum(fidelities) / n : null,
    firstFidelity: distribution(evaluated.flatMap((r) => (r.firstFidelity === null ? [] : [r.firstFidelity]))),
    histogram: histogram(fidelities),
    ssim: distribution(metric('ssim')),
    edgeF1: distribution(metric('edgeF1')),
    pixelMatch: distribution(metric('pixelMatch')),
    colorDistance: distribution(metric('colorDistance')),
    textF1: distribution(rendered.flatMap((r) => (r.metrics?.textF1 === undefined ? [] : [r.metrics.textF1]))),
    differences: {
      text: rendered.length ? sum(rendered.map((r) => r.differences?.text ?? 0)) / rendered.length : null,
      ink: rendered.length ? sum(rendered.map((r) => r.differences?.ink ?? 0)) / rendered.length : null,
    },
    rounds: { mean: n ? sum(evaluated.map((r) => r.rounds)) / n : null, total: sum(evaluated.map((r) => r.rounds)), counts: roundCounts },
    tokens: { prompt, completion, meanPerItem: n ? (prompt + completion) / n : null },
    seconds: { total: round3(sum(seconds)), mean: n ? sum(seconds) / n : null, median: quantile([...seconds].sort((a, b) => a - b), 0.5), wall: meta.wallSeconds },
    comparison: meta.comparison,
    provenance: meta.provenance,
    table: paperTable(records, { judge: Boolean(meta.judgeModel) }),
    markdown: '',
  };
  if (meta.judgeModel) {
    const scores = evaluated.flatMap((r) => (r.judge && 'score' in r.judge && r.judge.score !== null ? [r.judge.score] : []));
    summary.judge = {
      model: meta.judgeModel,
      judged: scores.length,
      errors: evaluated.filter((r) => r.judge && 'error' in r.judge).length,
      score: distribution(scores),
      // Items that did not render score 0, as in the published harness.
      scoreAll: n ? sum(scores) / n : null,
    };
  }
  summary.markdown = summaryMarkdown(summary);
  return summary;
}

// ─── Comparison ─────────────────────────────────────────────────────────────

export interface ComparisonRow {
  id: string;
  /** Fidelity of this run and of the other (0 when it did not render). */
  ours: number | null;
  theirs: number | null;
  delta: number | null;
  outcome: 'win' | 'loss' | 'tie' | 'only-ours' | 'only-theirs';
}

export interface Comparison {
  other: string;
  otherModel: string;
  /** Differences smaller than this are ties. */
  margin: number;
  common: number;
  wins: number;
  losses: number;
  ties: number;
  meanDelta: number | null;
  execution: { ours: number; theirs: number };
  /** Paired bootstrap of the mean fidelity difference and a sign test on the wins and losses. */
  significance?: PairedTest;
  rows: ComparisonRow[];
}

/**
 * Item by item, on the items both runs evaluated. An item that did not render counts as fidelity 0,
 * so rendering where the other run failed is a win.
 */
export function compareRuns(ours: readonly EvalRecord[], theirs: readonly EvalRecord[], other: string, margin = 0.005): Comparison {
  const score = (r: EvalRecord) => r.metrics?.fidelity ?? 0;
  const theirsById = new Map(theirs.filter((r) => r.status !== 'error').map((r) => [r.id, r]));
  const oursById = new Map(ours.filter((r) => r.status !== 'error').map((r) => [r.id, r]));
  const rows: ComparisonRow[] = [];
  for (const [id, a] of oursById) {
    const b = theirsById.get(id);
    if (!b) {
      rows.push({ id, ours: score(a), theirs: null, delta: null, outcome: 'only-ours' });
      continue;
    }
    const delta = score(a) - score(b);
    rows.push({ id, ours: score(a), theirs: score(b), delta, outcome: delta > margin ? 'win' : delta < -margin ? 'loss' : 'tie' });
  }
  for (const [id, b] of theirsById) if (!oursById.has(id)) rows.push({ id, ours: null, theirs: score(b), delta: null, outcome: 'only-theirs' });
  const common = rows.filter((r) => r.delta !== null);
  return {
    other,
    otherModel: theirs[0]?.model ?? '',
    margin,
    common: common.length,
    wins: rows.filter((r) => r.outcome === 'win').length,
    losses: rows.filter((r) => r.outcome === 'loss').length,
    ties: rows.filter((r) => r.outcome === 'tie').length,
    meanDelta: common.length ? sum(common.map((r) => r.delta as number)) / common.length : null,
    execution: {
      ours: common.filter((r) => oursById.get(r.id)?.metrics).length,
      theirs: common.filter((r) => theirsById.get(r.id)?.metrics).length,
    },
    significance: pairedTest(common.map((r) => r.ours as number), common.map((r) => r.theirs as number), { margin }),
    rows,
  };
}

// ─── Markdown ───────────────────────────────────────────────────────────────

/** Tables a researcher can paste into a paper or README. */
export function summaryMarkdown(s: EvalSummary): string {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}`);
  const f3 = (v: number | null) => (v === null ? '–' : v.toFixed(3));
  const f1 = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  const judge = s.judge;
  const head = ['Model', 'Items', 'Exec %', 'Exec % (1st answer)', 'Fidelity mean', 'Fidelity median', 'Fidelity (fail = 0)', 'SSIM', 'Edge F1', 'Pixel match', 'Colour dist.', 'Text F1', 'Text diffs / item'];
  const row = [
    escapeCell(s.model),
    String(s.evaluated),
    pct(s.execution.rate),
    pct(s.execution.firstAnswerRate),
    f3(s.fidelity.mean),
    f3(s.fidelity.median),
    f3(s.fidelityAll),
    f3(s.ssim.mean),
    f3(s.edgeF1.mean),
    f3(s.pixelMatch.mean),
    f3(s.colorDistance.mean),
    f3(s.textF1?.mean ?? null),
    f1(s.differences?.text ?? null),
  ];
  if (judge) {
    head.push(`Judge score (${escapeCell(judge.model)})`, 'Judge (fail = 0)');
    row.push(f1(judge.score.mean), f1(judge.scoreAll));
  }
  head.push('Rounds / item', 'Tokens / item', 's / item');
  row.push(f1(s.rounds.mean === null ? null : s.rounds.mean), s.tokens.meanPerItem === null ? '–' : Math.round(s.tokens.meanPerItem).toString(), f1(s.seconds.mean));
  const lines = s.table ? [s.table.markdown, '', table(head, [row])] : [table(head, [row])];

  const d = s.fidelity;
  lines.push(
    '',
    table(
      ['Fidelity (rendered items)', 'n', 'mean', 'std', 'min', 'p10', 'p25', 'median', 'p75', 'p90', 'max'],
      [['', String(d.n), f3(d.mean), f3(d.std), f3(d.min), f3(d.p10), f3(d.p25), f3(d.median), f3(d.p75), f3(d.p90), f3(d.max)]],
    ),
  );
  const edges = s.histogram.edges;
  lines.push(
    '',
    table(
      ['Fidelity bin', ...s.histogram.counts.map((_, i) => `${(edges[i] ?? 0).toFixed(1)}–${(edges[i + 1] ?? 1).toFixed(1)}`)],
      [['items', ...s.histogram.counts.map(String)]],
    ),
  );
  if (s.comparison) {
    const c = s.comparison;
    lines.push(
      '',
      table(
        ['vs', 'Common items', 'Wins', 'Losses', 'Ties', 'Mean Δ fidelity', 'Exec (ours / theirs)'],
        [[escapeCell(`${c.otherModel} (${c.other})`), String(c.common), String(c.wins), String(c.losses), String(c.ties), c.meanDelta === null ? '–' : signed(c.meanDelta), `${c.execution.ours} / ${c.execution.theirs}`]],
      ),
    );
    const t = c.significance;
    if (t) {
      const p = (v: number | null) => (v === null ? '–' : v < 0.001 ? v.toExponential(1) : v.toFixed(3));
      const ci = t.low === null || t.high === null ? '–' : `[${signed(t.low)}, ${signed(t.high)}]`;
      lines.push('', table(['Paired test', 'Mean Δ fidelity, 95 % CI', 'Paired bootstrap p', 'Sign test p'], [['', ci, p(t.bootstrapP), p(t.signP)]]));
    }
  }
  if (s.execution.errors) lines.push('', `${s.execution.errors} item(s) could not be evaluated (endpoint or input errors) and are left out; run again to retry them.`);
  return lines.join('\n');
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
}

/** Writes summary.json and summary.md into the run folder. */
export async function writeSummary(outDir: string, summary: EvalSummary): Promise<{ json: string; markdown: string }> {
  const json = join(outDir, 'summary.json');
  const markdown = join(outDir, 'summary.md');
  await writeFile(json, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(markdown, `${summary.markdown}\n`);
  return { json, markdown };
}
