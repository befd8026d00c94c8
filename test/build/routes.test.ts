// config.routes matching: the most specific route serves a request (README: "Routes are matched
// most specific first"), host patterns match any port's host, and a prefix needs its slash.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRoute, routeMatches, sortRoutes, type RoutePattern } from "../../host/build/routes.ts";

const route = (p: string): RoutePattern => {
  const r = parseRoute(p);
  assert.ok("value" in r, p);
  return r.value;
};

/** The pattern that serves host + path when all `patterns` are deployed, as the route table picks it. */
function serving(patterns: string[], host: string, path: string): string | undefined {
  const sorted = sortRoutes(patterns.map((p) => ({ route: route(p) })));
  return sorted.find((e) => routeMatches(e.route, host, path))?.route.pattern;
}

test("routes: named host before *.host before any host; exact path before prefix; longer prefix first", () => {
  const all = ["/*", "/api/*", "/api/v1/*", "/api/v1/health", "*.example.com/*", "api.example.com/*", "api.example.com/admin/*"];
  // every order of deployment gives the same answer
  for (const order of [all, [...all].reverse(), [all[3]!, all[0]!, all[6]!, all[1]!, all[5]!, all[2]!, all[4]!]]) {
    assert.equal(serving(order, "localhost", "/api/v1/health"), "/api/v1/health");
    assert.equal(serving(order, "localhost", "/api/v1/healthz"), "/api/v1/*");
    assert.equal(serving(order, "localhost", "/api/v2"), "/api/*");
    assert.equal(serving(order, "localhost", "/api"), "/*", "a prefix route needs its slash, as in Workers");
    assert.equal(serving(order, "localhost", "/"), "/*");
    assert.equal(serving(order, "API.Example.com", "/admin/x"), "api.example.com/admin/*");
    assert.equal(serving(order, "api.example.com", "/api/v1/health"), "api.example.com/*", "a named host beats any path on any host");
    assert.equal(serving(order, "www.example.com", "/x"), "*.example.com/*");
    assert.equal(serving(order, "example.com", "/x"), "/*", "*.example.com names subdomains only");
  }
  assert.equal(serving(["/books/*"], "h", "/books"), undefined);
  assert.equal(serving(["/books/*"], "h", "/books/1"), "/books/*");
  assert.equal(serving(["/health"], "h", "/health/"), undefined);
});
