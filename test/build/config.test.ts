import assert from "node:assert/strict";
import { describe, test } from "node:test";
import vm from "node:vm";
import { ConfigError, validateConfig } from "../../host/build/index.ts";

const DEFAULTS = {
  schedule: null, timezone: "UTC", overlap: "skip", catchUp: "latest", events: [], listen: [],
  delivery: "at-least-once", auth: "public", limits: {}, egress: null, role: null, routes: [],
};

function fails(raw: unknown, re: RegExp, fn = "nightly"): ConfigError {
  let err: unknown;
  try {
    validateConfig(fn, raw);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
  assert.equal(err.code, "CONFIG_INVALID");
  assert.equal(err.functionName, fn);
  assert.match(err.message, re);
  return err;
}

describe("validateConfig: accepted", () => {
  test("absent config gives the defaults", () => {
    assert.deepEqual(validateConfig("hello", undefined), DEFAULTS);
    assert.deepEqual(validateConfig("hello", null), DEFAULTS);
    assert.deepEqual(validateConfig("hello", {}), DEFAULTS);
  });

  test("the SPEC §3 example, normalised", () => {
    const c = validateConfig("demo", {
      schedule: "*/5 * * * *", timezone: "Europe/Berlin", overlap: "skip", catchUp: "latest",
      events: ["public.orders:insert,update"], listen: ["chat"], delivery: "at-least-once", auth: "public",
      limits: { cpuMs: 1000, wallMs: 30000, memoryMb: 128, subrequests: 50 }, egress: ["api.example.com"], routes: ["/api/*"],
    });
    assert.deepEqual(c, {
      schedule: "*/5 * * * *", timezone: "Europe/Berlin", overlap: "skip", catchUp: "latest",
      events: [{ schema: "public", table: "orders", ops: ["insert", "update"] }], listen: ["chat"],
      delivery: "at-least-once", auth: "public",
      limits: { cpuMs: 1000, wallMs: 30000, memoryMb: 128, subrequests: 50 }, egress: ["api.example.com"], role: null,
      routes: ["/api/*"],
    });
  });

  test("routes: paths and host patterns accepted, bad ones refused with the reason", () => {
    assert.deepEqual(validateConfig("f", { routes: ["/api/*", " api.example.com/* ", "*.example.com/v1/*", "/health", "/api/*"] }).routes,
      ["/api/*", "api.example.com/*", "*.example.com/v1/*", "/health"]);
    fails({ routes: ["https://x.com/*"] }, /config\.routes\[0\]: "https:\/\/x\.com\/\*" has a scheme; write "host\/path" or "\/path", e\.g\. "x\.com\/\*"/);
    fails({ routes: ["/_hangar/*"] }, /config\.routes\[0\]: "\/_hangar\/\*" overlaps \/_hangar, which Hangar serves itself/);
    fails({ routes: ["/functions/v1/x"] }, /overlaps \/functions\/v1/);
    fails({ routes: ["/a/*/b"] }, /"\*" is allowed only at the end of the path/);
    fails({ routes: ["example.com"] }, /has no path; write "example\.com\/\*"/);
    fails({ routes: ["example.com:8080/*"] }, /ports are not part of a route/);
    fails({ routes: "/api/*" }, /config\.routes: expected an array of strings/);
  });

  test("role: a plain role name, or a clear error", () => {
    assert.equal(validateConfig("f", { role: "app_user" }).role, "app_user");
    fails({ role: "x; drop" }, /config\.role: "x; drop" is not a plain role name/, "f");
  });

  test("schedules: 6 fields, nicknames", () => {
    for (const s of ["0 */5 * * * *", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", " 0 3 * * 1-5 "]) {
      assert.equal(validateConfig("f", { schedule: s }).schedule, s.trim());
    }
  });

  test("events: table without schema means public, no ops means all, same table merges", () => {
    const c = validateConfig("f", { events: ["orders:delete", "billing.invoices", "orders: UPDATE , insert", "_t$1:insert"] });
    assert.deepEqual(c.events, [
      { schema: "public", table: "orders", ops: ["insert", "update", "delete"] },
      { schema: "billing", table: "invoices", ops: ["insert", "update", "delete"] },
      { schema: "public", table: "_t$1", ops: ["insert"] },
    ]);
  });

  test("partial limits stay partial; egress wildcards and case are normalised; lists dedupe", () => {
    const c = validateConfig("f", { limits: { memoryMb: 8 }, egress: ["*.Example.com", "api.example.com.", "api.example.com"], listen: ["a", "a"], auth: "jwt", delivery: "exactly-once", events: ["t"] });
    assert.deepEqual(c.limits, { memoryMb: 8 });
    assert.deepEqual(c.egress, ["*.example.com", "api.example.com"]);
    assert.deepEqual(c.listen, ["a"]);
    assert.deepEqual(validateConfig("f", { egress: [] }).egress, []);
  });

  test("an object from another realm (as a sandbox copy could be) is accepted", () => {
    const raw = vm.runInNewContext(`({ schedule: "@hourly", limits: { cpuMs: 5 } })`);
    assert.deepEqual(validateConfig("f", raw).limits, { cpuMs: 5 });
  });
});

describe("validateConfig: ConfigError names function, key path and reason", () => {
  test("not an object", () => void fails("@hourly", /^function "nightly": config: expected an object, got string "@hourly"$/));
  test("unknown key, with a suggestion", () => void fails({ schedul: "@hourly" }, /^function "nightly": config\.schedul: unknown key \(did you mean "schedule"\?\); known keys: schedule, timezone/));
  test("unknown key without a near match", () => void fails({ retries: 3 }, /^function "nightly": config\.retries: unknown key; known keys:/));
  test("wrong type", () => void fails({ schedule: 5 }, /^function "nightly": config\.schedule: expected a string, got number 5$/));
  test("invalid cron (croner's reason)", () => void fails({ schedule: "*/61 * * * *" }, /^function "nightly": config\.schedule: invalid cron "\*\/61 \* \* \* \*": .*steps cannot be greater than maximum value/));
  test("cron with 7 fields", () => void fails({ schedule: "0 0 0 * * * 2030" }, /config\.schedule: invalid cron "0 0 0 \* \* \* 2030": .*5 or 6 parts/));
  test("cron with 3 fields", () => void fails({ schedule: "1 2 3" }, /config\.schedule: invalid cron "1 2 3"/));
  test("@reboot", () => void fails({ schedule: "@reboot" }, /config\.schedule: invalid cron "@reboot"/));
  test("cron that never fires", () => void fails({ schedule: "0 0 30 2 *" }, /config\.schedule: cron "0 0 30 2 \*" never fires/));
  test("unknown zone", () => void fails({ schedule: "@daily", timezone: "Europe/Atlantis" }, /^function "nightly": config\.timezone: unknown time zone "Europe\/Atlantis"/));
  test("empty zone", () => void fails({ timezone: "" }, /config\.timezone: unknown time zone ""/));
  test("bad enum", () => void fails({ overlap: "queue" }, /^function "nightly": config\.overlap: expected one of "skip", "allow", got "queue"$/));
  test("bad catchUp", () => void fails({ catchUp: "everything" }, /config\.catchUp: expected one of "none", "latest", "all"/));
  test("bad delivery", () => void fails({ delivery: "exactly-twice" }, /config\.delivery: expected one of/));
  test("bad auth", () => void fails({ auth: "basic" }, /config\.auth: expected one of "public", "jwt", "key", got "basic"/));
  test("events not an array", () => void fails({ events: "orders:insert" }, /config\.events: expected an array of strings, got string/));
  test("events entry not a string", () => void fails({ events: ["orders", 3] }, /config\.events\[1\]: expected a string, got number 3/));
  test("bad table name", () => void fails({ events: ["public.order-items:insert"] }, /^function "nightly": config\.events\[0\]: bad table name "public\.order-items": "order-items" is not a valid identifier/));
  test("too many dots", () => void fails({ events: ["db.public.orders"] }, /config\.events\[0\]: bad table name "db\.public\.orders": expected "table" or "schema\.table"/));
  test("identifier too long", () => void fails({ events: [`${"t".repeat(64)}:insert`] }, /config\.events\[0\]: bad table name/));
  test("identifier starting with a digit", () => void fails({ events: ["1orders"] }, /config\.events\[0\]: bad table name "1orders"/));
  test("unknown op", () => void fails({ events: ["orders:insert,truncate"] }, /config\.events\[0\]: unknown operation "truncate" in "orders:insert,truncate"/));
  test("empty ops", () => void fails({ events: ["orders:"] }, /config\.events\[0\]: no operations after ":"/));
  test("reserved schema", () => void fails({ events: ["hangar.events:insert"] }, /config\.events\[0\]: schema "hangar" is reserved/));
  test("bad channel", () => void fails({ listen: ["chat", "chat room"] }, /^function "nightly": config\.listen\[1\]: bad channel name "chat room"/));
  test("channel too long", () => void fails({ listen: ["c".repeat(64)] }, /config\.listen\[0\]: bad channel name/));
  test("limits not an object", () => void fails({ limits: 5 }, /config\.limits: expected an object, got number 5/));
  test("unknown limit", () => void fails({ limits: { cpu: 5 } }, /config\.limits\.cpu: unknown limit \(did you mean "cpuMs"\?\)/));
  test("limit not an integer", () => void fails({ limits: { cpuMs: 1.5 } }, /config\.limits\.cpuMs: expected an integer, got number 1\.5/));
  test("limit as a string", () => void fails({ limits: { wallMs: "30s" } }, /config\.limits\.wallMs: expected an integer, got string "30s"/));
  test("limit zero", () => void fails({ limits: { subrequests: 0 } }, /config\.limits\.subrequests: 0 is out of range \(1 to 1000\)/));
  test("cpuMs cap", () => void fails({ limits: { cpuMs: 60_001 } }, /config\.limits\.cpuMs: 60001 is out of range \(1 to 60000\)/));
  test("wallMs cap", () => void fails({ limits: { wallMs: 900_001 } }, /config\.limits\.wallMs: 900001 is out of range \(1 to 900000\)/));
  test("memoryMb floor and cap", () => {
    fails({ limits: { memoryMb: 4 } }, /config\.limits\.memoryMb: 4 is out of range \(8 to 1024\)/);
    fails({ limits: { memoryMb: 2048 } }, /config\.limits\.memoryMb: 2048 is out of range \(8 to 1024\)/);
  });
  test("subrequests cap", () => void fails({ limits: { subrequests: 1001 } }, /config\.limits\.subrequests: 1001 is out of range/));
  test("egress not an array", () => void fails({ egress: "api.example.com" }, /config\.egress: expected an array of strings/));
  test("egress URL", () => void fails({ egress: ["https://api.example.com/v1"] }, /config\.egress\[0\]: "https:\/\/api\.example\.com\/v1" is a URL; write the host only, e.g\. "api\.example\.com"/));
  // Ports are honoured (issue 12): "host:port" allows that port only.
  test("egress with a bad port", () => void fails({ egress: ["api.example.com:0"] }, /config\.egress\[0\]: "api\.example\.com:0": port 0 is out of range/));
  test("egress with a path", () => void fails({ egress: ["api.example.com/v1"] }, /config\.egress\[0\]: "api\.example\.com\/v1" is not a hostname/));
  test("egress inner wildcard", () => void fails({ egress: ["api.*.com"] }, /config\.egress\[0\]: "api\.\*\.com" is not a hostname/));
  test("egress bare wildcard", () => void fails({ egress: ["*"] }, /config\.egress\[0\]: "\*" is not a hostname/));
  test("egress too broad", () => void fails({ egress: ["*.com"] }, /config\.egress\[0\]: "\*\.com" is too broad/));
  test("egress IP", () => void fails({ egress: ["10.0.0.1"] }, /config\.egress\[0\]: "10\.0\.0\.1" is an IP address/));
  test("egress bad label", () => void fails({ egress: ["-bad.example.com"] }, /config\.egress\[0\]: "-bad\.example\.com" is not a hostname/));

  test("every problem is reported, one line each", () => {
    const err = fails({ schedule: "nope", timezone: "Nowhere/City", limits: { cpuMs: -1 }, extra: 1 }, /config\.extra/);
    assert.deepEqual(err.issues.map((i) => i.path).sort(), ["config.extra", "config.limits.cpuMs", "config.schedule", "config.timezone"]);
    assert.equal(err.message.split("\n").length, 4);
    for (const line of err.message.split("\n")) assert.match(line, /^function "nightly": config\.\S+: /);
  });
});
