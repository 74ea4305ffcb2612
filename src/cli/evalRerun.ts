// `refigure eval --rerun RUN_DIR --out NEW_DIR`: a run's stored code rendered again, no model asked, with what differs and why.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { RefigureError } from '../core/errors';
import { readRunSummary, reproductionMarkdown, rerunEvaluation } from '../core/eval/evalRerun';
import { summarize, writeSummary } from '../core/eval/evalSummary';
import { runEnvironment } from '../core/eval/runEnvironment';
import type { RenderService } from '../core/render/render';
import { type CliIo, interruptSignal } from './io';

/** Exit status of a rerun whose figures differ from the run's (0 when every one is reproduced). */
export const notReproducedExit = 1;

export async function runRerun(
  values: { rerun?: string; out?: string; timeout?: string; concurrency?: string; json?: boolean },
  io: CliIo,
  makeRenderer: (concurrency: number) => Promise<RenderService>,
): Promise<number> {
  if (!values.out) throw new RefigureError('usage', '--rerun needs --out NEW_DIR, a folder for the new renders.');
  const runDir = resolve(io.cwd, values.rerun as string);
  const outDir = resolve(io.cwd, values.out);
  const old = await readRunSummary(runDir);
  const concurrency = Math.max(1, Math.floor(Number(values.concurrency ?? 2)) || 2);
  const renderTimeoutMs = (Number(values.timeout ?? old.settings.renderTimeoutS ?? 30) || 30) * 1000;
  const renderer = await makeRenderer(Math.max(1, Math.min(concurrency, availableParallelism())));
  const interrupt = interruptSignal();
  try {
    const environment = runEnvironment(await renderer.environment(), renderer.sandbox);
    const started = Date.now();
    const { records, reproduction } = await rerunEvaluation({ runDir, outDir, renderer, environment, renderTimeoutMs, concurrency, signal: interrupt.signal });
    const provenance = old.provenance ? { ...old.provenance, environment } : undefined;
    const summary = summarize(records, {
      dataset: old.dataset,
      items: old.items,
      settings: { ...old.settings, rerunOf: runDir },
      judgeModel: old.judge?.model,
      wallSeconds: Math.round(Date.now() - started) / 1000,
      provenance,
    });
    const words = reproductionMarkdown(reproduction);
    summary.markdown = `${words}\n\n${summary.markdown}`;
    const written = await writeSummary(outDir, summary);
    if (values.json) io.json({ reproduction, summary });
    else io.out(`${words}\n\n  results       ${join(outDir, 'results.jsonl')}\n  summary       ${written.json}\n  reproduction  ${join(outDir, 'reproduction.json')}\n`);
    return reproduction.exact ? 0 : notReproducedExit;
  } finally {
    interrupt.dispose();
    await renderer.close();
  }
}
