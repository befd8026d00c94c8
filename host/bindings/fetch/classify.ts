// Address classification for guest egress. Default-deny: only addresses that
// are positively global unicast count as "public"; everything else has a
// named class so refusals can say why.
import ipaddr from "ipaddr.js";

export type AddressClass =
  | "public"
  | "loopback"
  | "private"       // RFC 1918
  | "unique-local"  // fc00::/7
  | "cgnat"         // 100.64.0.0/10
  | "link-local"    // 169.254/16, fe80::/10
  | "metadata"      // cloud instance metadata endpoints
  | "unspecified"   // 0.0.0.0/8, :: (connecting to 0.0.0.0 reaches this host)
  | "broadcast"
  | "multicast"
  | "reserved"      // documentation, benchmarking, 240/4, 6to4, Teredo, ...
  | "invalid";      // not an IP address at all

// Metadata services are refused even with allowPrivate: they hand out credentials.
const METADATA = [
  "169.254.169.254/32", // AWS, GCP, Azure, OpenStack, DigitalOcean
  "169.254.170.2/32",   // AWS ECS task metadata
  "100.100.100.200/32", // Alibaba Cloud
  "fd00:ec2::254/128",  // AWS IMDS over IPv6
  "169.254.170.23/32",  // AWS EKS Pod Identity agent
  "fd00:ec2::23/128",   // AWS EKS Pod Identity agent over IPv6
  "168.63.129.16/32",   // Azure WireServer (a public address, reachable from every Azure VM)
  "169.254.0.23/32",    // Tencent Cloud metadata
].map((c) => ipaddr.parseCIDR(c));

const IPV6_GLOBAL = ipaddr.parseCIDR("2000::/3");

const V4_CLASS: Record<string, AddressClass> = {
  unicast: "public",
  as112: "public", // anycast DNS sinks, globally routed
  amt: "public",   // multicast relays, globally routed
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "cgnat",
  private: "private",
  reserved: "reserved",
};

const V6_CLASS: Record<string, AddressClass> = {
  unicast: "public",
  unspecified: "unspecified",
  linkLocal: "link-local",
  multicast: "multicast",
  loopback: "loopback",
  uniqueLocal: "unique-local",
  deprecatedSiteLocal: "private",
};

function isMetadata(addr: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return METADATA.some(([net, bits]) => addr.kind() === net.kind() && addr.match(net, bits));
}

function classifyV4(addr: ipaddr.IPv4): AddressClass {
  if (isMetadata(addr)) return "metadata";
  return V4_CLASS[addr.range()] ?? "reserved";
}

function classifyV6(addr: ipaddr.IPv6): AddressClass {
  if (addr.isIPv4MappedAddress()) return classifyV4(addr.toIPv4Address());
  if (isMetadata(addr)) return "metadata";
  const range = addr.range();
  // NAT64 (64:ff9b::/96): the gateway connects to the embedded IPv4 address.
  if (range === "rfc6052" && addr.match(ipaddr.parseCIDR("64:ff9b::/96"))) {
    const p = addr.parts;
    return classifyV4(new ipaddr.IPv4([p[6] >> 8, p[6] & 0xff, p[7] >> 8, p[7] & 0xff]));
  }
  const cls = V6_CLASS[range] ?? "reserved";
  // Only 2000::/3 is allocated global unicast; "unicast" outside it
  // (e.g. IPv4-compatible ::a.b.c.d) is not something to connect to.
  if (cls === "public" && !addr.match(IPV6_GLOBAL)) return "reserved";
  return cls;
}

/** Classify an IP address string (IPv4, IPv6, with or without [brackets]). */
export function classifyAddress(ip: string): AddressClass {
  const s = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  // Zone ids (fe80::1%eth0) are link-local by construction.
  if (s.includes("%")) return ipaddr.IPv6.isValid(s.split("%")[0]) ? "link-local" : "invalid";
  if (ipaddr.IPv6.isValid(s)) return classifyV6(ipaddr.IPv6.parse(s));
  // Four-part decimal only: odd forms (127.1, 0x7f000001) must be normalised
  // by the WHATWG URL parser first, so both sides agree on what they mean.
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return classifyV4(ipaddr.IPv4.parse(s));
  return "invalid";
}

/** True when `host` is an IP literal (bracketed IPv6 allowed), not a name to resolve. */
export function isIpLiteral(host: string): boolean {
  const s = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return ipaddr.IPv6.isValid(s) || ipaddr.IPv4.isValidFourPartDecimal(s);
}

export interface AddressPolicy {
  allowLoopback?: boolean;
  allowPrivate?: boolean;
}

/** Why an address class is refused under a policy, or null when it is allowed. */
export function refusalReason(cls: AddressClass, policy: AddressPolicy): string | null {
  switch (cls) {
    case "public":
      return null;
    case "loopback":
      return policy.allowLoopback ? null : "loopback address (the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1)";
    case "private":
    case "unique-local":
    case "cgnat":
    case "link-local":
      return policy.allowPrivate ? null : `${cls} address (the operator can permit it with HANGAR_FETCH_ALLOW_PRIVATE=1)`;
    case "metadata":
      return "cloud metadata address (never allowed)";
    case "invalid":
      return "not a valid IP address";
    default:
      return `${cls} address (never allowed)`;
  }
}

/** Classify `ip` and check it against the policy: null when allowed, else the reason. */
export function checkAddress(ip: string, policy: AddressPolicy): string | null {
  return refusalReason(classifyAddress(ip), policy);
}
