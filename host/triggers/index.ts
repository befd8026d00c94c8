// Table events (durable, SKIP LOCKED claims over hangar.events) and raw NOTIFY channels.
export { startEventDispatcher, EVENTS_CHANNEL, type EventDispatcher, type DispatcherDeps, type DispatcherOptions } from "./dispatcher.ts";
export { startNotifyListener, type NotifyListener, type NotifyListenerDeps, type NotifyListenerOptions } from "./listen.ts";
export { syncTableTriggers, dropTableTriggers, triggerName, triggerNames, type EventSpec, type SyncOptions, type SyncResult } from "./install.ts";
export { eventOps, type EventSummary } from "./admin.ts";
