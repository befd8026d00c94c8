// Synthetic function sources of a given size: many small functions, all
// reachable from the handler so no bundler drops them.

/** Body code (no exports) of about `kb` KB defining `handle(request)`. */
export function sizedHandler(kb: number, tag: string): string {
  const parts: string[] = [];
  const names: string[] = [];
  let size = 0;
  for (let i = 0; size < kb * 1024; i++) {
    const n = `f${i}_${tag}`;
    const f = `function ${n}(a, b) { const o = { k: a + ${i}, s: "v${i}" + b }; return o.k > b ? o.s.length : [a, b, ${i}].map((x) => x * 2).reduce((p, q) => p + q, 0); }\n`;
    parts.push(f);
    names.push(n);
    size += f.length + n.length + 2;
  }
  return `${parts.join("")}const all_${tag} = [${names.join(", ")}];
async function handle(request) {
  return Response.json({ ok: true, functions: all_${tag}.length, first: all_${tag}[0](1, 2) });
}
`;
}

/** A Hangar function file (Workers-style default export). */
export const hangarFunction = (body: string) => `${body}\nexport default { fetch: (request: Request) => handle(request) };\n`;
