// Natives beyond the core set, each concern in its own file.
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { compressNatives } from "./compress.ts";
import { formNatives } from "./forms.ts";

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

export function extraNatives(ctx: QuickJSContext, tools: NativeTools): NativeFns {
  return { ...compressNatives(ctx, tools), ...formNatives(ctx, tools) };
}
