// The paper's table of an eval run: execution (raw and with shims), image score, fidelity and the reference-code figures, with bootstrap intervals, overall and per domain.
import { codeFigureNames, type CodeFigures } from '../fidelity/codeFigures';
import type { EvalRecord } from './evalRun';
import { type MeanInterval, bootstrapMean } from './stats';

export interface TableRow {
  /** `all`, or a domain's name. */
  group: string;
  items: number;
  /** Share of items whose final answer rendered. */
  execution: MeanInterval;
  /** Share that rendered with no compatibility shim firing: what the published harness's bare `python` would run. */
  rawExecution: MeanInterval;
  /** Judge score out of 100, items that did not render scoring 0, when a judge was set. */
  judge?: MeanInterval;
  /** Composite fidelity, items that did not render scoring 0. */
  fidelity: MeanInterval;
  /** Items whose reference program rendered, the denominator of the code figures. */
  withReference: number;
  /** Each over items with a rendered reference; an answer that did not render scores 0, a figure with nothing to compare on either side is left out. */
  code: Record<keyof CodeFigures, MeanInterval>;
}

export interface PaperTable {
  rows: TableRow[];
  markdown: string;
}

export function paperTable(records: readonly EvalRecord[], options: { judge: boolean }): PaperTable {
  const evaluated = records.filter((r) => r.status !== 'error');
  const rows = [row('all', evaluated, options.judge)];
  const domains = [...new Set(evaluated.flatMap((r) => (r.domain ? [r.domain] : [])))].sort();
  if (domains.length > 1 || (domains.length === 1 && evaluated.some((r) => !r.domain))) {
    for (const domain of domains) rows.push(row(domain, evaluated.filter((r) => r.domain === domain), options.judge));
  }
  return { rows, markdown: tableMarkdown(rows, options.judge) };
}

function row(group: string, records: readonly EvalRecord[], judge: boolean): TableRow {
  const rendered = (r: EvalRecord) => r.status === 'rendered' && r.metrics !== null;
  const withReference = records.filter((r) => r.reference?.ok);
  const code = {} as Record<keyof CodeFigures, MeanInterval>;
  for (const name of codeFigureNames) {
    code[name] = bootstrapMean(
      withReference.flatMap((r) => {
        const figures = r.reference?.figures;
        if (!figures) return [0];
        const value = figures[name];
        return value === null ? [] : [value];
      }),
    );
  }
  const out: TableRow = {
    group,
    items: records.length,
    execution: bootstrapMean(records.map((r) => (rendered(r) ? 1 : 0))),
    rawExecution: bootstrapMean(records.map((r) => (rendered(r) && !(r.compat ?? []).length ? 1 : 0))),
    fidelity: bootstrapMean(records.map((r) => r.metrics?.fidelity ?? 0)),
    withReference: withReference.length,
    code,
  };
  if (judge) out.judge = bootstrapMean(records.map((r) => (r.judge && 'score' in r.judge && r.judge.score !== null ? r.judge.score : 0)));
  return out;
}

/** A mean and its 95 % interval, scaled (rates and F1 as percentages, the judge as is). */
export function formatInterval(m: MeanInterval, scale = 100): string {
  if (m.mean === null) return '–';
  const f = (v: number) => (v * scale).toFixed(1);
  return m.low === null || m.high === null ? f(m.mean) : `${f(m.mean)} [${f(m.low)}, ${f(m.high)}]`;
}

function tableMarkdown(rows: readonly TableRow[], judge: boolean): string {
  const head = ['Group', 'Items', 'Exec %', 'Exec % (raw)'];
  if (judge) head.push('Image score');
  head.push('Fidelity', 'With ref.', 'Text F1', 'Type F1', 'Colour F1', 'Layout F1', 'Geometry');
  const body = rows.map((r) => {
    const cells = [r.group.replace(/\|/g, '\\|'), String(r.items), formatInterval(r.execution), formatInterval(r.rawExecution)];
    if (judge) cells.push(r.judge ? formatInterval(r.judge, 1) : '–');
    cells.push(formatInterval(r.fidelity), String(r.withReference), ...codeFigureNames.map((n) => formatInterval(r.code[n])));
    return `| ${cells.join(' | ')} |`;
  });
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...body,
    '',
    'Means ×100 with 95 % percentile bootstrap intervals (2,000 resamples, fixed seed). Items that did not render score 0.',
  ].join('\n');
}
