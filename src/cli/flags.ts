// The flags the commands share, parsed one way: usage errors, numbers, choices, the model client and the renderer.
import { stat } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RefigureError, describeError } from '../core/errors';
import { completeModel, resolveEndpoint, sandboxModes } from '../core/config';
import { createModelClient, listModels } from '../core/reconstruct/model';
import { createRenderer } from '../core/render/render';
import { oneOf as pick } from '../shared/values';
import { type CliIo, cliLogger } from './io';

/** node:util parseArgs with our usage errors; with `--help` it prints `usage` and returns undefined. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  usage: string,
  io: CliIo,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> | undefined {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if ((parsed.values as Record<string, unknown>).help) {
      io.out(usage);
      return undefined;
    }
    return parsed;
  } catch (error) {
    throw new RefigureError('usage', `${describeError(error)}\n\n${usage}`);
  }
}

export function numberOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new RefigureError('usage', `--${name} needs a number ≥ ${min}, not "${value}".`);
  return parsed;
}

export function oneOf<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const chosen = pick(value, allowed);
  if (chosen !== undefined) return chosen;
  throw new RefigureError('usage', `--${name} must be one of ${allowed.join(', ')}, not "${value}".`);
}

/** The model client the flags and environment name (its name filled in from `/models` when blank), or undefined for the offline provider. */
export async function modelFromFlags(
  values: { endpoint?: string; model?: string; 'api-key-env'?: string; offline?: boolean; 'request-timeout'?: string },
  io: CliIo,
) {
  if (values.offline) return undefined;
  const keyVar = values['api-key-env'];
  if (keyVar !== undefined && !io.env[keyVar]) {
    throw new RefigureError('usage', `--api-key-env names ${keyVar}, which is not set.`);
  }
  const config = resolveEndpoint({
    endpoint: values.endpoint,
    model: values.model,
    apiKey: keyVar ? io.env[keyVar] : undefined,
    timeoutMs: numberOption(values['request-timeout'], 'request-timeout', 600, 1) * 1000,
    env: io.env,
  });
  if (!config) return undefined;
  const logger = cliLogger(io, false);
  return createModelClient(await completeModel(config, listModels), logger);
}

/** Flags every command that renders takes. */
export const renderOptions = {
  python: { type: 'string' },
  timeout: { type: 'string' },
  sandbox: { type: 'string' },
  out: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags every command that asks a model takes (read by `modelFromFlags`). */
export const modelOptions = {
  endpoint: { type: 'string' },
  model: { type: 'string' },
  'api-key-env': { type: 'string' },
  offline: { type: 'boolean' },
  'request-timeout': { type: 'string' },
} as const;

export async function rendererFromFlags(values: { python?: string; sandbox?: string; verbose?: boolean }, io: CliIo, concurrency = 1) {
  return createRenderer({
    python: values.python ?? io.env.REFIGURE_PYTHON,
    sandbox: oneOf(values.sandbox, 'sandbox', sandboxModes, 'auto'),
    logger: cliLogger(io, Boolean(values.verbose)),
    concurrency,
  });
}

export async function requireFile(path: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new RefigureError('input', `No file at ${path}.`, 'Check the path.');
  }
  if (!info.isFile()) throw new RefigureError('input', `${path} is not a file.`);
}
