// The command line's window on the world: output streams, the environment, and a progress line.
import type { Logger } from '../core/types';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
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
      this.io.err(`\r\x1b[2K${line}`);
      this.last = line;
    } else if (!transient && text !== this.last) {
      this.io.err(`${text}\n`);
      this.last = text;
    }
  }

  done(): void {
    if (this.io.isTTY && this.last) this.io.err('\r\x1b[2K');
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
