import type { HangarConfig } from "../config/index.ts";

type Errno = Error & { code?: string; port?: number; address?: string; hostname?: string; errors?: Errno[] };

function where(config: HangarConfig | null): string {
  if (!config?.databaseUrl) return "the database";
  try {
    const u = new URL(config.databaseUrl);
    return `the database at ${u.hostname}${u.port ? `:${u.port}` : ""}`;
  } catch {
    return "the database";
  }
}

/**
 * Operational failures people cause by their setup, as one line saying what
 * is wrong and what to do. Null for anything else (a bug keeps its stack).
 */
export function explain(err: unknown, config: HangarConfig | null): string | null {
  const e = err as Errno;
  const code = e?.code ?? e?.errors?.[0]?.code;
  const db = where(config);
  switch (code) {
    case "EADDRINUSE":
      return `port ${e.port ?? config?.port} is already in use: stop what is using it, or pick another with --port`;
    case "EACCES":
      if (e.port !== undefined) return `not allowed to listen on port ${e.port}: pick a port above 1023 with --port`;
      return null;
    case "ECONNREFUSED":
      return `cannot reach ${db}: connection refused (is Postgres running? check DATABASE_URL)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot reach ${db}: host "${e.hostname ?? "?"}" not found (check DATABASE_URL)`;
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "EHOSTUNREACH":
      return `cannot reach ${db}: ${code} (check DATABASE_URL and the network)`;
    case "28P01":
    case "28000":
      return `${db} refused the login: ${e.message} (check the user and password in DATABASE_URL)`;
    case "3D000":
      return `${db}: ${e.message} (create it, or fix the database name in DATABASE_URL)`;
    case "ERR_INVALID_URL":
      return `DATABASE_URL is not a valid URL: expected postgres://user:password@host:5432/database`;
  }
  if (typeof e?.message === "string" && /Connection terminated|connect ECONN|timeout expired/i.test(e.message) && !(err instanceof TypeError)) {
    return `lost the connection to ${db}: ${e.message}`;
  }
  return null;
}
