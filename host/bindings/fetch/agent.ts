// The undici Agent whose every connection goes through an address check.
// undici ignores http.Agent, so the check lives in `connect.lookup`: Node's
// net/tls call it to resolve a hostname and connect to exactly the addresses
// it hands back, so the checked address is the one connected to (no second
// resolution for DNS rebinding to exploit). IP-literal hosts never reach
// lookup; the caller checks those before dispatching.
import * as dns from "node:dns";
import type { LookupAddress, LookupOneOptions, LookupAllOptions } from "node:dns";
import { Agent } from "undici";
import { checkAddress, isIpLiteral, type AddressPolicy } from "./classify.ts";
import { egressDenied, FetchError } from "./errors.ts";

/** Resolves a hostname to all its addresses; swappable so tests never touch real DNS. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Resolve and vet: refuses when ANY resolved address is not allowed, so a name cannot mix a public and a private answer. */
export async function resolveAllowed(hostname: string, policy: AddressPolicy, resolve: Resolver): Promise<LookupAddress[]> {
  if (isIpLiteral(hostname)) {
    const why = checkAddress(hostname, policy);
    if (why) throw egressDenied(hostname, why);
    const address = hostname.replace(/^\[|\]$/g, "");
    return [{ address, family: address.includes(":") ? 6 : 4 }];
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(hostname);
  } catch (err) {
    throw new FetchError("FETCH_FAILED", `fetch to ${hostname} failed: DNS lookup failed (${(err as Error).message})`, { cause: err });
  }
  if (addresses.length === 0) throw new FetchError("FETCH_FAILED", `fetch to ${hostname} failed: DNS returned no addresses`);
  for (const { address } of addresses) {
    const why = checkAddress(address, policy);
    if (why) throw egressDenied(hostname, `resolves to ${address}, ${why}`);
  }
  return addresses;
}

/** A `net.connect`-compatible lookup that only ever yields vetted addresses. */
export function guardedLookup(policy: AddressPolicy, resolve: Resolver) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions | number, callback: LookupCallback): void => {
    const opts = typeof options === "object" ? options : { family: options };
    resolveAllowed(hostname, policy, resolve).then(
      (all) => {
        const family = opts.family === "IPv4" ? 4 : opts.family === "IPv6" ? 6 : opts.family;
        const wanted = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        if (wanted.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = "ENOTFOUND";
          return callback(err, "");
        }
        if ("all" in opts && opts.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (err: Error) => callback(err as NodeJS.ErrnoException, ""),
    );
  };
}

export interface AgentOptions extends AddressPolicy {
  resolve?: Resolver;
  connectTimeoutMs?: number;
}

/** An undici Agent that connects only to addresses the policy allows. */
export function createGuardedAgent(options: AgentOptions): Agent {
  const policy = { allowLoopback: options.allowLoopback, allowPrivate: options.allowPrivate };
  return new Agent({
    connect: {
      lookup: guardedLookup(policy, options.resolve ?? systemResolver),
      timeout: options.connectTimeoutMs ?? 10_000,
    },
  });
}
