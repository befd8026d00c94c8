import { HOST_FUNCTION_NAMES, HostBindingError, type HostFunctions } from "../../runtime/types.ts";
import type { InvocationBindings } from "./invoker.ts";

export interface LazyBindings {
  /** Every host function name (made on first read); the real bindings are made on the first call of any. */
  readonly host: HostFunctions;
  /** Close the bindings if they were made; later calls are refused. Safe twice. */
  close(): Promise<void>;
}

/** Host functions whose bindings (SQL sessions, vector and fetch state) are made on first use. */
export function lazyBindings(make: () => Promise<InvocationBindings>): LazyBindings {
  return new Lazy(make);
}

// A class, so `host` is a getter on the prototype: an object literal's getter gives every object its own
// hidden class. The host functions are made on first read too: most invocations call none, and they are a
// dozen closures.
class Lazy implements LazyBindings {
  private made: Promise<InvocationBindings> | undefined;
  private closed = false;
  private fns: HostFunctions | undefined;

  constructor(private readonly make: () => Promise<InvocationBindings>) {}

  get host(): HostFunctions {
    if (this.fns) return this.fns;
    const h: HostFunctions = {};
    for (const name of HOST_FUNCTION_NAMES) {
      h[name] = async (args, info) => {
        const { functions } = await this.bindings();
        if (!Object.hasOwn(functions, name)) throw Object.assign(new Error(`host function "${name}" is not available`), { code: "ENOSYS" });
        return functions[name](args, info);
      };
    }
    return (this.fns = h);
  }

  private bindings(): Promise<InvocationBindings> {
    if (this.closed) throw new HostBindingError("the invocation has ended: its bindings are closed", "BINDINGS_CLOSED");
    return (this.made ??= this.make().catch((err: unknown) => {
      throw new HostBindingError(`the invocation's bindings could not be made: ${(err as Error)?.message ?? String(err)}`, "BINDINGS_FAILED", { cause: err });
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const b = await this.made?.catch(() => undefined);
    await b?.close();
  }
}
