import type { HangarConfig } from "../config/index.ts";
import type { Db } from "../db/index.ts";
import type { Invoker } from "../invoke/types.ts";
import type { Runtime } from "../../runtime/index.ts";

export interface AdminContext {
  db: Db;
  config: HangarConfig;
  /** Who is acting, recorded in ledgers ("cli:<user>", "api"). */
  actor: string;
  /** The instance's sandbox runtime, when the op runs inside a server (deploy reads config through it). */
  runtime?: Runtime;
  /**
   * The instance's registry, when the op runs inside a server: a deploy seeds its bundle cache, and a switch
   * (deploy, rollback, delete) is applied here before the op returns, so this instance serves it at once.
   */
  registry?: {
    seed(versionId: string, bundle: { code: string; map: string | null }): void;
    refresh(force: boolean): Promise<void>;
  };
  /** The instance's invoker, when the op runs inside a server. */
  invoker?: Invoker;
  /** `hangar dev`: forgiving where production is strict (a watched table may not exist yet). */
  dev?: boolean;
}

/**
 * An admin operation: the one implementation behind both the admin HTTP API
 * (`POST /_hangar/api/<name>` with JSON args) and the CLI run against a local
 * database. Arguments and result are JSON. Throw UserError for bad input.
 */
export type AdminOp = (ctx: AdminContext, args: Record<string, unknown>) => Promise<unknown>;
