// Errors a user can act on. `kind` decides the command line's exit code (DESIGN.md §7).

export type ErrorKind = 'usage' | 'input' | 'endpoint' | 'render' | 'cancelled' | 'environment';

/** What went wrong, finer than `kind`, for callers that decide on it (never on the message's wording). */
/** `no-model`: no endpoint is configured; `model-unnamed`: an endpoint is, but no model is named and it serves several. */
export type ErrorCode = 'no-code' | 'no-attempt' | 'no-model' | 'model-unnamed' | 'bad-result' | 'busy' | 'no-sandbox' | 'blocked-port';

export class RefigureError extends Error {
  override readonly name = 'RefigureError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** What the user can do about it, one sentence. */
    readonly hint?: string,
    options?: { cause?: unknown; code?: ErrorCode },
  ) {
    super(message, options);
    this.code = options?.code;
  }

  readonly code: ErrorCode | undefined;
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof RefigureError) {
    switch (error.kind) {
      case 'usage':
      case 'input':
      case 'environment':
        return 2;
      case 'endpoint':
        return 3;
      case 'render':
        return 4;
      case 'cancelled':
        return 130;
    }
  }
  return 1;
}

export function isAbort(error: unknown): boolean {
  return (
    (error instanceof RefigureError && error.kind === 'cancelled') ||
    (error instanceof Error && (error.name === 'AbortError' || error.name === 'APIUserAbortError'))
  );
}

export function cancelled(): RefigureError {
  return new RefigureError('cancelled', 'Cancelled.');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

/** The error's code when it is a RefigureError that has one. */
export function errorCode(error: unknown): ErrorCode | undefined {
  return error instanceof RefigureError ? error.code : undefined;
}

/** One-line text of any error, with the hint when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof RefigureError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
