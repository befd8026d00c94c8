// Types the guest's JavaScript cannot state in JSDoc without adding code.
import type { Listener } from "./events.js";

declare global {
  // Defined by the prelude bundler (runtime/prelude.ts): the source text of a
  // bundled library, an expression evaluated on first use by evalLib.
  const __HANGAR_LIB_STREAMS__: string;
  const __HANGAR_LIB_URLPATTERN__: string;
}

// Set with Object.defineProperty (non-enumerable), which TypeScript does not follow.
declare module "./events.js" {
  interface EventTarget {
    readonly _listeners: Map<string, Listener[]>;
  }
}

// Accessors defined in a loop over FIELDS.
declare module "./url.js" {
  interface URL {
    href: string; readonly origin: string; protocol: string; username: string; password: string;
    host: string; hostname: string; port: string; pathname: string; search: string; hash: string;
  }
}
