// The command line's window on the world: output streams, the environment, and a progress line.
// Every byte the CLI writes passes through `processIo`: text for people is made terminal-safe there, JSON stays exact.
import type { Logger } from '../core/types';

export interface CliIo {
  /** Text for people on stdout; control characters that a terminal would act on are removed. */
  out(text: string): void;
  /** Text for people on stderr, likewise made safe. */
  err(text: string): void;
  /** A value as exact JSON on stdout (one document and a newline). */
  json(value: unknown): void;
  /** Redraws the one-line status on a terminal (stderr); an empty text clears it. */
  status(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

// C0 controls except tab and newline, DEL, and the C1 controls (0x80-0x9f, e.g. CSI as one code point).
const unsafeControls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text a model or the model's code wrote, made safe to print: escape sequences (OSC 52 clipboard writes,
 * OSC 8 links, screen clears) lose their control characters and show as inert text. Newlines and tabs stay.
 */
export function terminalSafe(text: string): string {
  return text.replace(unsafeControls, '');
}

/** JSON with C1 controls escaped too (JSON.stringify escapes only C0): same value, nothing a terminal acts on. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(terminalSafe(text)),
    err: (text) => process.stderr.write(terminalSafe(text)),
    json: (value) => process.stdout.write(jsonText(value)),
    status: (text) => process.stderr.write(`\r\x1b[2K${terminalSafe(text)}`),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A logger that writes to stderr: warnings and errors always, the rest with --verbose. */
export function cliLogger(io: CliIo, verbose: boolean): Logger {
  return {
    info: (message) => verbose && io.err(`${message}\n`),
    debug: (message) => verbose && io.err(`${message}\n`),
    warn: (message) => io.err(`warning: ${message}\n`),
    error: (message) => io.err(`error: ${message}\n`),
  };
}

/** A one-line status that redraws itself on a terminal and prints plain lines otherwise. */
export class StatusLine {
  private last = '';
  constructor(private readonly io: CliIo) {}

  update(text: string, transient = false): void {
    if (this.io.isTTY) {
      const width = 100;
      const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      this.io.status(line);
      this.last = line;
    } else if (!transient && text !== this.last) {
      this.io.err(`${text}\n`);
      this.last = text;
    }
  }

  done(): void {
    if (this.io.isTTY && this.last) this.io.status('');
    this.last = '';
  }
}

/** A signal that Ctrl-C (SIGINT) or SIGTERM aborts, so a command stops its request and its render cleanly; `dispose` stops listening. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}
