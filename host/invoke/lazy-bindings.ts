import { HOST_FUNCTION_NAMES, HostBindingError, type HostFunctions } from "../../runtime/types.ts";
import type { InvocationBindings } from "./invoker.ts";

export interface LazyBindings {
  /** Every host function name; the real bindings are made on the first call of any. */
  host: HostFunctions;
  /** Close the bindings if they were made; later calls are refused. Safe twice. */
  close(): Promise<void>;
}

/** Host functions whose bindings (SQL sessions, vector and fetch state) are made on first use. */
export function lazyBindings(make: () => Promise<InvocationBindings>): LazyBindings {
  let made: Promise<InvocationBindings> | undefined;
  let closed = false;
  const bindings = () => {
    if (closed) throw new HostBindingError("the invocation has ended: its bindings are closed", "BINDINGS_CLOSED");
    return (made ??= make().catch((err: unknown) => {
      throw new HostBindingError(`the invocation's bindings could not be made: ${(err as Error)?.message ?? String(err)}`, "BINDINGS_FAILED", { cause: err });
    }));
  };
  const host: HostFunctions = {};
  for (const name of HOST_FUNCTION_NAMES) {
    host[name] = async (args, info) => {
      const { functions } = await bindings();
      if (!Object.hasOwn(functions, name)) throw Object.assign(new Error(`host function "${name}" is not available`), { code: "ENOSYS" });
      return functions[name](args, info);
    };
  }
  return {
    host,
    async close() {
      if (closed) return;
      closed = true;
      const b = await made?.catch(() => undefined);
      await b?.close();
    },
  };
}
