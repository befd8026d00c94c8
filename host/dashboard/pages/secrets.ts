import { registryOps } from "../../registry/admin.ts";
import { secretOps } from "../../secrets/admin.ts";
import { attempt, field, redirect, render, type Ctx, type Dash } from "../context.ts";
import { when } from "../format.ts";
import { h } from "../html.ts";
import { BASE, form, table } from "../layout.ts";

interface SecretRow {
  name: string;
  function: string | null;
  updated_at: string;
}

/** Secret names and scopes (never values), with set and unset. */
export async function secretsPage(c: Ctx, d: Dash): Promise<Response> {
  const [{ secrets }, fns] = await Promise.all([
    secretOps["secrets.list"](d.admin, {}) as Promise<{ secrets: SecretRow[] }>,
    registryOps["functions.list"](d.admin, {}) as Promise<{ name: string }[]>,
  ]);
  const session = c.get("session");
  const list = table(
    `${secrets.length} secret${secrets.length === 1 ? "" : "s"}; values are never shown`,
    ["Name", "Scope", "Updated", ""],
    secrets.map((s) => h`<tr><th scope="row" class="mono">${s.name}</th><td>${s.function ?? h`<span class="muted">global</span>`}</td><td>${when(s.updated_at)}</td>
<td>${form(session, `${BASE}/secrets/unset`, h`<input type="hidden" name="name" value="${s.name}"><input type="hidden" name="function" value="${s.function ?? ""}">
<button type="submit" class="secondary" aria-label="Unset ${s.name}${s.function ? ` of ${s.function}` : ""}">Unset</button>`, "inline")}</td></tr>`),
    "No secrets.",
  );
  const setForm = form(
    session,
    `${BASE}/secrets/set`,
    h`<div class="row">
<div class="field"><label for="secret-name">Name</label><input id="secret-name" name="name" required pattern="[A-Za-z_][A-Za-z0-9_]{0,127}" autocomplete="off" spellcheck="false"></div>
<div class="field"><label for="secret-value">Value</label><input id="secret-value" name="value" type="password" required autocomplete="new-password"></div>
<div class="field"><label for="secret-scope">Scope</label><select id="secret-scope" name="function"><option value="">global</option>${fns.map((f) => h`<option>${f.name}</option>`)}</select></div>
<button type="submit">Set secret</button></div>`,
  );
  return render(c, { title: "Secrets", section: "secrets" }, h`<h2>Set a secret</h2>${setForm}<h2>Stored</h2>${list}`);
}

export async function secretSet(c: Ctx, d: Dash): Promise<Response> {
  const name = field(c, "name");
  const fn = field(c, "function");
  // The value is taken as typed: leading or trailing spaces may be part of it.
  const value = c.get("form").value ?? "";
  const r = await attempt(() => secretOps["secrets.set"](d.admin, { name, value, function: fn || null }));
  return redirect(c, "/secrets", "error" in r ? { err: r.error } : { ok: `Set ${name}${fn ? ` for ${fn}` : " (global)"}.` });
}

export async function secretUnset(c: Ctx, d: Dash): Promise<Response> {
  const name = field(c, "name");
  const fn = field(c, "function");
  const r = await attempt(() => secretOps["secrets.unset"](d.admin, { name, function: fn || null }));
  return redirect(c, "/secrets", "error" in r ? { err: r.error } : { ok: `Unset ${name}${fn ? ` of ${fn}` : " (global)"}.` });
}
