// Deploy-time build step: find functions, bundle them, validate their config, map guest stacks.
export { BuildError, ConfigError, type ConfigIssue } from "./errors.ts";
export { discoverFunctions, scanFunctions, isValidFunctionName, FUNCTION_NAME_RE, type DiscoveredFunction } from "./discover.ts";
export {
  bundleFunction, formatMessage, isNodeBuiltin,
  BUNDLE_FILENAME, DEFAULT_MAX_BUNDLE_BYTES, EXPORTS_GLOBAL,
  type Bundle, type BundleOptions,
} from "./bundle.ts";
export { HANGAR_MODULE_SOURCE } from "./plugins.ts";
export { mapStack, clearStackMapCache } from "./stack.ts";
export { validateConfig, isTimeZone, type FunctionConfig } from "./config.ts";
export { LIMIT_RANGES, type EventOp, type TableEventSpec } from "./config-fields.ts";
export { nextOccurrences, parseSchedule } from "./schedule.ts";
export { HANGAR_TYPES_PATH } from "./types-path.ts";
