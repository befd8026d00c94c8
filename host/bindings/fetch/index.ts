// The guest `fetch` host binding: SSRF-safe outbound HTTP for sandboxed functions.
import type { Agent } from "undici";
import { HostBindingError, type HostCallInfo, type HostFunction } from "../../../runtime/types.ts";
import { createGuardedAgent } from "./agent.ts";
import { performFetch } from "./fetch.ts";
import { BodyStreams } from "./stream.ts";
import { resolveFetchPolicy, type FetchPolicy, type ResolvedFetchPolicy } from "./policy.ts";

export type { FetchPolicy } from "./policy.ts";
export type { Resolver } from "./agent.ts";
export { classifyAddress, checkAddress, isIpLiteral, type AddressClass } from "./classify.ts";
export { isHostAllowed, isUrlAllowed } from "./egress.ts";
export { FetchError, type FetchErrorCode } from "./errors.ts";

export interface Fetcher {
  /** The "fetch" host function: args[0] is FetchRequestData, resolves to FetchResponseData; `.read` serves "fetch.read". */
  binding: FetchBinding;
  /** Close the Agent (and its keep-alive sockets); safe to call twice. */
  close(): Promise<void>;
}

/** The "fetch" host function, and "fetch.read" (args: [bodyStream, "cancel"?]) for the rest of a streamed body. */
export type FetchBinding = HostFunction & { read: HostFunction };

function bindingFor(policy: ResolvedFetchPolicy, agent: () => Agent): FetchBinding {
  // Requests sent through this binding (one per invocation), redirect hops included.
  const sent = { n: 0 };
  const streams = new BodyStreams(policy);
  const binding = async (args: unknown[], info: HostCallInfo) => performFetch(args[0], policy, agent(), info.signal, sent, streams);
  const read: HostFunction = async (args) => {
    const id = Number(args[0]);
    if (args[1] === "cancel") { streams.cancel(id); return null; }
    return streams.read(id);
  };
  return Object.assign(binding, { read });
}

/** A fetch binding with its own Agent, closed by `close()`. */
export function createFetcher(policy: FetchPolicy = {}): Fetcher {
  const resolved = resolveFetchPolicy(policy);
  const agent = createGuardedAgent(resolved);
  let closing: Promise<void> | null = null;
  return {
    binding: bindingFor(resolved, () => {
      if (closing) throw new HostBindingError("fetch binding used after close()", "FETCH_CLOSED");
      return agent;
    }),
    close() {
      // Drain in-flight requests briefly, then force.
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([agent.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
        } catch {
          // fall through to destroy
        } finally {
          clearTimeout(timer);
        }
        await agent.destroy().catch(() => {});
      })();
      return closing;
    },
  };
}

// Agents shared by address-policy shape: per-function egress lists and limits
// vary per call, but connection pools only depend on what the lookup allows.
const shared = new Map<string, Agent>();

function sharedAgent(policy: ResolvedFetchPolicy): Agent {
  const key = `${policy.allowLoopback}:${policy.allowPrivate}`;
  let agent = shared.get(key);
  if (!agent) {
    agent = createGuardedAgent(policy);
    shared.set(key, agent);
  }
  return agent;
}

/**
 * A fetch binding over an Agent shared by every binding with the same
 * allowLoopback/allowPrivate; cheap to call per invocation with that
 * function's egress list. (A custom `resolve` needs createFetcher.)
 */
export function createFetchBinding(policy: FetchPolicy = {}): FetchBinding {
  const resolved = resolveFetchPolicy(policy);
  if (resolved.resolve) throw new TypeError("createFetchBinding: a custom resolve needs its own Agent; use createFetcher");
  return bindingFor(resolved, () => sharedAgent(resolved));
}

/** Close every shared Agent (server shutdown); safe to call twice. */
export async function closeSharedFetchAgents(): Promise<void> {
  const agents = [...shared.values()];
  shared.clear();
  await Promise.all(agents.map((a) => a.close().catch(() => a.destroy())));
}
