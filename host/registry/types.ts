import type { FunctionConfig } from "../build/index.ts";

/** The active version of a deployed function, as every instance sees it. */
export interface ActiveFunction {
  name: string;
  versionId: string;
  version: number;
  hash: string;
  config: FunctionConfig;
}

export interface DeployInput {
  name: string;
  code: string;
  map: string | null;
  hash: string;
  /**
   * The version's config, or its evaluation still under way: the bundle is
   * then stored meanwhile, in the deploy's transaction, which a failed
   * evaluation rolls back.
   */
  config: FunctionConfig | Promise<FunctionConfig>;
  actor: string;
}

export interface DeployResult {
  name: string;
  version: number;
  versionId: string;
  hash: string;
  /** True when identical content was already active: nothing changed. */
  unchanged: boolean;
  /** Things the deploy did not do yet (dev: a watched table that does not exist). */
  warnings?: string[];
  /** The handlers the version exports (absent for versions deployed before they were recorded). */
  handlers?: string[];
}
