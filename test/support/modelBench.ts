// What the session and refinement tests share: a small geometry figure, its exact render as the original,
// a scripted model and a real renderer.
import assert from 'node:assert/strict';
import type { ModelClient, Renderer } from '../../src/core/types';
import { createRenderer } from '../../src/core/render/render';
import { createModelClient } from '../../src/core/reconstruct/model';
import { type ScriptedServer, type Step, startScriptedServer } from './scriptedServer';
import { scratch } from './paths';

/** A triangle, a circle and a label, no axes. `dx` shifts the circle. */
export function geometryFigure(dx: number, color = 'black', label = 'A'): string {
  return [
    'import matplotlib.pyplot as plt',
    'from matplotlib.patches import Circle, Polygon',
    'fig, ax = plt.subplots(figsize=(4, 3), dpi=100)',
    "ax.add_patch(Polygon([[0.5, 0.5], [3.0, 0.6], [1.6, 2.5]], closed=True, fill=False, lw=2, edgecolor='black'))",
    `ax.add_patch(Circle((${(2.6 + dx).toFixed(2)}, 2.0), 0.6, fill=False, lw=2, edgecolor='${color}'))`,
    `ax.text(0.35, 0.3, '${label}', fontsize=14)`,
    'ax.set_xlim(0, 4); ax.set_ylim(0, 3); ax.set_aspect("equal"); ax.axis("off")',
    'fig.subplots_adjust(0, 0, 1, 1)',
    '',
  ].join('\n');
}

export const answerWith = (code: string): string => `Here is the code.\n\n\`\`\`python\n${code}\`\`\`\n`;

/** A scripted reply step with one answer per code (several: one per choice). */
export const replyWith = (code: string | string[]): Step => ({
  reply: Array.isArray(code) ? code.map(answerWith) : answerWith(code),
  usage: { prompt_tokens: 100, completion_tokens: 50 },
});

export interface ModelBench {
  renderer: Renderer;
  server: ScriptedServer;
  model: ModelClient;
  /** The exact figure's render: an answer of `geometryFigure(0)` redraws it exactly. */
  original: string;
  /** A fresh scratch folder, removed by `close`. */
  folder(name: string): string;
  close(): Promise<void>;
}

export async function startModelBench(prefix: string): Promise<ModelBench> {
  const cleanups: (() => void)[] = [];
  const folder = (name: string): string => {
    const made = scratch(`${prefix}-${name}-`);
    cleanups.push(made.dispose);
    return made.dir;
  };
  const renderer = await createRenderer();
  const made = await renderer.render({ code: geometryFigure(0), outDir: folder('original'), stem: 'original' });
  assert.ok(made.ok && made.png, `the original renders: ${made.error?.message}`);
  const server = await startScriptedServer();
  const model = createModelClient({ baseURL: server.url, model: 'scripted-model', maxRetries: 0 });
  return {
    renderer,
    server,
    model,
    original: made.png,
    folder,
    async close() {
      await server.close();
      await renderer.close();
      for (const cleanup of cleanups) cleanup();
    },
  };
}
