/** Errors of the host layer: each has a stable `code`; causes are kept. */
export class HangarError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The user asked for something malformed: CLI exit status 2. */
export class UsageError extends HangarError {
  constructor(message: string) {
    super(message, "USAGE");
  }
}

/** A user-level failure with a one-line reason: CLI exit status 1, HTTP 4xx. */
export class UserError extends HangarError {
  readonly status: number;
  constructor(message: string, code = "USER_ERROR", status = 400, options?: { cause?: unknown }) {
    super(message, code, options);
    this.status = status;
  }
}

export class MigrationError extends HangarError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "MIGRATION_FAILED", options);
  }
}

/** Normalise anything thrown into an Error. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === "string") return new Error(err);
  try {
    return new Error(JSON.stringify(err));
  } catch {
    return new Error(String(err));
  }
}
