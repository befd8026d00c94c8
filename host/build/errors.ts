// Errors of the build layer: one class per failure a user can fix, each with a stable code.

/** Bundling or discovery failed; the message lists every problem with its location. */
export class BuildError extends Error {
  readonly code = "BUILD_FAILED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BuildError";
  }
}

/** One problem found in a function's `export const config`. */
export interface ConfigIssue {
  /** Key path, e.g. `config.limits.cpuMs` or `config.events[1]`. */
  path: string;
  reason: string;
}

/** A function's static config is invalid; the deploy must fail. */
export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly functionName: string;
  readonly issues: readonly ConfigIssue[];
  constructor(functionName: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => `function "${functionName}": ${i.path}: ${i.reason}`).join("\n"), options);
    this.name = "ConfigError";
    this.functionName = functionName;
    this.issues = issues;
  }
}
