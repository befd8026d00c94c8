// QuickJS says only "not a function" when a call's target is not callable;
// V8 names it ("crypto.subtle.foo is not a function"). The failing call's
// position is the first bundle frame of the stack, pointing at the callee's
// last name: the callee is read from the bundle's text there.

const NAME = /[\p{ID_Continue}$\u200c\u200d]/u;

/** `message`, naming the callee when it is QuickJS's bare "not a function" and the call is found in `code`. */
export function nameCallee(message: string, stack: string | undefined, code: string, filename: string): string {
  if (message !== "not a function" || !stack) return message;
  const at = new RegExp(`\\(${filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)\\)`).exec(stack);
  if (!at) return message;
  const line = lineOf(code, Number(at[1]));
  if (line === null) return message;
  let end = Number(at[2]) - 1;
  while (end < line.length && NAME.test(line[end])) end++;
  let start = Number(at[2]) - 1;
  // back over `a.b.c` (and `a?.b`): names joined by dots, nothing else
  for (;;) {
    while (start > 0 && NAME.test(line[start - 1])) start--;
    if (line[start - 1] === "." && NAME.test(line[start - 2] ?? "")) start--;
    else if (line.slice(start - 2, start) === "?." && NAME.test(line[start - 3] ?? "")) start -= 2;
    else break;
  }
  const callee = line.slice(start, end);
  return callee && !/^\d/.test(callee) ? `${callee} is not a function` : message;
}

/** Line `n` (1-based) of `code`, or null. */
function lineOf(code: string, n: number): string | null {
  let from = 0;
  for (let i = 1; i < n; i++) {
    from = code.indexOf("\n", from) + 1;
    if (from === 0) return null;
  }
  const to = code.indexOf("\n", from);
  return code.slice(from, to < 0 ? code.length : to);
}
