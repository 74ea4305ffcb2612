// Process-tree checks for the render tests (Linux /proc): which processes descend from a worker.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcessEntry {
  pid: number;
  ppid: number;
  state: string;
  cmdline: string;
}

export function processTable(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name in parentheses may itself contain spaces or parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      entries.push({ pid: Number(name), ppid: Number(fields[1]), state: fields[0] ?? '?', cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return entries;
}

/** Every process below `roots` (not the roots themselves). */
export function descendants(roots: readonly number[]): ProcessEntry[] {
  const table = processTable();
  const found: ProcessEntry[] = [];
  let frontier = new Set(roots);
  while (frontier.size) {
    const next = new Set<number>();
    for (const entry of table) {
      if (frontier.has(entry.ppid) && !found.some((f) => f.pid === entry.pid)) {
        found.push(entry);
        next.add(entry.pid);
      }
    }
    frontier = next;
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A short description of processes for assertion messages. */
export function describe(entries: readonly ProcessEntry[]): string {
  return entries.map((e) => `${e.pid}<${e.ppid} ${e.state} ${e.cmdline.slice(0, 80)}`).join('\n');
}
