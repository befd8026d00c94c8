export { Registry, type RegistryOptions } from "./registry.ts";
export { deployVersion, rollbackVersion, loadActive, loadBundle, type ActivateHook, type ActivateOptions } from "./store.ts";
export type { ActiveFunction, DeployInput, DeployResult } from "./types.ts";
