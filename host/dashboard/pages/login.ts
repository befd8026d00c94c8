import { h } from "../html.ts";
import { BASE, page } from "../layout.ts";

/** The login form: the admin token, posted once, traded for a session cookie. */
export function loginPage(o: { next?: string; error?: string }): string {
  return page(
    { title: "Log in", notice: o.error ? { kind: "error", text: o.error } : null },
    h`<div class="login"><form method="post" action="${BASE}/login">
<label for="token">Admin token <span class="muted">(HANGAR_ADMIN_TOKEN)</span></label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${o.next ?? ""}">
<button type="submit">Log in</button>
<p class="muted">The token is checked once; the browser then keeps an HttpOnly session cookie for 12 hours.</p>
</form></div>`,
  );
}
