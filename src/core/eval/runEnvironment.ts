// What an eval run's figures depend on besides the code: recorded in summary.json and compared when a run is rendered again.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { version as refigureVersion } from '../../../package.json';
import type { EvalItem } from './evalDataset';
import type { SandboxLayer } from '../types';
import { isRecord } from '../../shared/values';

export interface RunEnvironment {
  refigure: string;
  node: string;
  platform: string;
  python: string | null;
  matplotlib: string | null;
  numpy: string | null;
  pillow: string | null;
  freetype: string | null;
  backend: string | null;
  dpi: number | null;
  savefigDpi: string | null;
  defaultFont: string | null;
  /** Font families the interpreter's matplotlib found, sorted, and their hash (the list can be long). */
  fonts: string[];
  fontsHash: string;
  sandbox: SandboxLayer;
}

/** The model side of a run: what was asked and how; never the key. */
export interface RunModel {
  provider: 'model' | 'offline';
  model: string;
  endpoint: string | null;
  preset: string | null;
  sampling: Record<string, unknown> | null;
  /** Per-item seeds sent with each request; null: the requests carry none, so answers are not reproducible, only their renders. */
  seeds: Record<string, number> | null;
}

/** The seeds the endpoint took, by item; null when it took none (or the run used no model). */
export function seedsOf(records: readonly { id: string; seed?: number }[]): Record<string, number> | null {
  const taken = records.filter((r) => typeof r.seed === 'number').map((r) => [r.id, r.seed as number] as const);
  return taken.length ? Object.fromEntries(taken) : null;
}

export interface RunProvenance {
  environment: RunEnvironment;
  model: RunModel;
  dataset: DatasetFingerprint;
}

export interface DatasetFingerprint {
  path: string;
  items: number;
  /** SHA-256 over every item's id, image bytes and reference code, in order. */
  sha256: string;
}

/** The rendering environment as the render service's worker reports it. */
export function runEnvironment(hello: Record<string, unknown>, sandbox: SandboxLayer): RunEnvironment {
  const env = isRecord(hello.environment) ? hello.environment : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const fonts = Array.isArray(env.fonts) ? env.fonts.filter((f): f is string => typeof f === 'string') : [];
  return {
    refigure: refigureVersion,
    node: process.versions.node,
    platform: `${platform()}-${arch()}`,
    python: text(hello.python),
    matplotlib: text(hello.matplotlib),
    numpy: text(hello.numpy),
    pillow: text(hello.pillow),
    freetype: text(env.freetype),
    backend: text(env.backend),
    dpi: typeof env.dpi === 'number' ? env.dpi : null,
    savefigDpi: text(env.savefigDpi),
    defaultFont: text(env.defaultFont),
    fonts,
    fontsHash: createHash('sha256').update(fonts.join('\n')).digest('hex').slice(0, 16),
    sandbox,
  };
}

export async function fingerprintDataset(path: string, items: readonly EvalItem[]): Promise<DatasetFingerprint> {
  const hash = createHash('sha256');
  for (const item of items) {
    hash.update(`${item.id}\0`);
    hash.update(await readFile(item.image));
    hash.update(`\0${item.referenceCode ?? ''}\0`);
  }
  return { path, items: items.length, sha256: hash.digest('hex') };
}

/** What changed between the environment a run recorded and the one rendering it again, field by field. */
export function environmentChanges(before: Partial<RunEnvironment>, after: RunEnvironment): Array<{ field: string; before: unknown; after: unknown }> {
  const fields: Array<keyof RunEnvironment> = ['refigure', 'python', 'matplotlib', 'numpy', 'pillow', 'freetype', 'backend', 'dpi', 'savefigDpi', 'defaultFont', 'fontsHash', 'sandbox', 'platform'];
  return fields.filter((f) => f in before && JSON.stringify(before[f]) !== JSON.stringify(after[f])).map((f) => ({ field: f, before: before[f], after: after[f] }));
}
