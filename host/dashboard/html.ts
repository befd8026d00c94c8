/** HTML that is already safe to emit (escaped or trusted markup). */
export class Safe {
  constructor(readonly s: string) {}
  toString(): string {
    return this.s;
  }
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escape text for an HTML element body or a quoted attribute. */
export function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c]);
}

/** Trusted markup, emitted as is. */
export function raw(s: string): Safe {
  return new Safe(s);
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return "";
  if (v instanceof Safe) return v.s;
  if (Array.isArray(v)) return v.map(render).join("");
  return escape(String(v));
}

/** Tagged template: every interpolated value is escaped unless it is `Safe`; arrays are joined. */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Safe {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Safe(out);
}
