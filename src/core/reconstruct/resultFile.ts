// Reading a saved reconstruction (the CLI's `.refigure.json`, the panel's history), older versions included.
import { readFile } from 'node:fs/promises';
import type { Attempt, Note, ReconstructionResult } from '../types';
import { RefigureError, describeError } from '../errors';
import { bestAttempt } from './refine';
import { isRecord } from '../../shared/values';

/** A saved result checked for the fields the session relies on; version 1 files (plain-text notes) are brought up to date. */
export function parseResult(value: unknown, source = 'The result'): ReconstructionResult {
  const bad = (why: string) => new RefigureError('input', `${source} is not a Refigure reconstruction: ${why}.`, undefined, { code: 'bad-result' });
  if (!isRecord(value)) throw bad('not a JSON object');
  if (value.version !== 1 && value.version !== 2) throw bad(`unknown version ${JSON.stringify(value.version)}`);
  if (!isRecord(value.image) || typeof value.image.path !== 'string') throw bad('no image');
  if (!Array.isArray(value.attempts) || value.attempts.length === 0) throw bad('no attempts');
  for (const [i, attempt] of value.attempts.entries()) {
    if (!isRecord(attempt) || typeof attempt.code !== 'string' || !isRecord(attempt.render) || typeof attempt.render.ok !== 'boolean') throw bad(`attempt ${i + 1} is malformed`);
  }
  const attempts = (value.attempts as Attempt[]).map((attempt, index) => ({ ...attempt, index }));
  const best = bestAttempt(attempts)?.index ?? 0;
  const shown = typeof value.shown === 'number' && attempts[value.shown] ? value.shown : best;
  const notes: Note[] = Array.isArray(value.notes)
    ? value.notes.flatMap((note): Note[] => (typeof note === 'string' ? [] : isRecord(note) && typeof note.code === 'string' ? [note as unknown as Note] : []))
    : [];
  const result = value as unknown as ReconstructionResult & { version: 1 | 2 };
  return {
    ...result,
    version: 2,
    attempts,
    shown,
    best,
    notes,
    captionAttempt: typeof value.captionAttempt === 'number' ? value.captionAttempt : result.caption ? best : null,
    captionProvider: value.captionProvider === 'model' || value.captionProvider === 'offline' ? value.captionProvider : result.caption ? result.provider : null,
    timings: isRecord(value.timings) ? (value.timings as Record<string, number>) : {},
  };
}

export async function readResultFile(path: string): Promise<ReconstructionResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new RefigureError('input', `No file at ${path}.`, 'Check the path.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RefigureError('input', `${path} is not JSON: ${describeError(error)}`, undefined, { code: 'bad-result' });
  }
  return parseResult(json, path);
}
