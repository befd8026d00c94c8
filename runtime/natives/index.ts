// Natives beyond the core set, each concern in its own file.
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { compressNatives } from "./compress.ts";
import { formNatives } from "./forms.ts";
import { intlNatives } from "./intl.ts";
import { subtleBindings } from "./subtle.ts";
import type { HostFunctions } from "../types.ts";

/** Bounded readers and writers every native uses (see bounds.ts). */
export interface NativeTools {
  str(h: QuickJSHandle, what: string, cap?: number): string;
  bytes(h: QuickJSHandle, what: string, cap?: number): Uint8Array;
  num(h: QuickJSHandle): number;
  newBytes(what: string, b: Uint8Array): QuickJSHandle;
  newString(what: string, s: string): QuickJSHandle;
  errorObject(message: string): QuickJSHandle;
}

export type NativeFns = Record<string, (...args: QuickJSHandle[]) => QuickJSHandle | void>;

/** The extra natives, and the host functions the runtime itself provides to the guest (per instance). */
export function extraNatives(ctx: QuickJSContext, tools: NativeTools): { natives: NativeFns; host: HostFunctions } {
  const subtle = subtleBindings(ctx, tools);
  return { natives: { ...compressNatives(ctx, tools), ...formNatives(ctx, tools), ...intlNatives(ctx, tools), ...subtle.natives }, host: subtle.host };
}
