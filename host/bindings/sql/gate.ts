// Which statements guest SQL may be: decided on the statement's leading
// keywords, found by a lexer that skips exactly what Postgres skips before
// the first token (whitespace, `--` comments, nested `/* */` comments).
// Postgres's grammar picks the statement kind from those leading keywords,
// so a statement that starts with SELECT cannot be a SET, whatever follows.
// Multiple statements are refused by the extended protocol itself (42601).

/** Leading keywords of statements the guest may run. */
const SINGLE = new Set(["select", "insert", "update", "delete", "merge", "with", "values", "table", "explain", "truncate"]);

/** Leading keyword pairs (DDL on tables and indexes, checked by privileges as the guest role). */
const PAIRS: Record<string, Set<string>> = {
  create: new Set(["table", "index", "unique", "temp", "temporary", "unlogged"]),
  alter: new Set(["table"]),
  drop: new Set(["table", "index"]),
};

export interface GateVerdict {
  ok: boolean;
  /** The leading keyword(s) seen, lower-cased, for the error message. */
  leading: string;
}

/** Skip whitespace and comments from `i`; returns the index of the first token. */
function skipTrivia(text: string, i: number): number {
  for (;;) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") i++;
    else if (c === "-" && text[i + 1] === "-") {
      while (i < text.length && text[i] !== "\n" && text[i] !== "\r") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text[i] === "/" && text[i + 1] === "*") (depth++, (i += 2));
        else if (text[i] === "*" && text[i + 1] === "/") (depth--, (i += 2));
        else i++;
      }
      if (depth > 0) return text.length;
    } else return i;
  }
}

/** An unquoted keyword at `i` (ASCII letters and `_`), lower-cased; "" when something else is there. */
function keywordAt(text: string, i: number): { word: string; end: number } {
  const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(text.slice(i, i + 64));
  return m ? { word: m[0].toLowerCase(), end: i + m[0].length } : { word: "", end: i };
}

/** Whether guest SQL text starts like a statement the guest may run, and calls no large-object function. */
export function checkStatement(text: string): GateVerdict {
  const verdict = checkFrom(text, 0);
  if (!verdict.ok) return verdict;
  const refused = refusedCall(text);
  return refused ? { ok: false, leading: refused } : verdict;
}

/** EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (options): the statement it wraps decides (EXPLAIN ANALYZE runs it). */
function checkExplain(text: string, i: number): GateVerdict {
  i = skipTrivia(text, i);
  if (text[i] === "(") {
    let depth = 0;
    for (; i < text.length; i++) {
      if (text[i] === "(") depth++;
      else if (text[i] === ")" && --depth === 0) break;
      else if (text[i] === "'" || text[i] === '"') return { ok: false, leading: "explain (" };
    }
    if (depth !== 0) return { ok: false, leading: "explain (" };
    i = skipTrivia(text, i + 1);
  } else {
    for (;;) {
      const kw = keywordAt(text, i);
      if (kw.word !== "analyze" && kw.word !== "analyse" && kw.word !== "verbose") break;
      i = skipTrivia(text, kw.end);
    }
  }
  const inner = checkFrom(text, i);
  return { ok: inner.ok, leading: `explain ${inner.leading}` };
}

// Large objects live outside tables (beyond privileges on them and the row
// cap). Migration 0006 revokes the functions; this names the refusal clearly
// and holds where the migration could not revoke (no superuser). setseed()
// seeds the session's random() for whoever gets the session next (no DISCARD
// resets it), so one function could make another's random() predictable.
const REFUSED_CALL = /(?:^|[^A-Za-z0-9_$])"?(lo_[A-Za-z0-9_]*|loread|lowrite|setseed)"?\s*\(/i;

/** A refused function called in `text` (string literals ignored), or null. */
function refusedCall(text: string): string | null {
  const m = REFUSED_CALL.exec(text.replace(/'(?:[^']|'')*'/g, "''"));
  return m ? m[1].toLowerCase() : null;
}

function checkFrom(text: string, start: number): GateVerdict {
  let i = skipTrivia(text, start);
  // A parenthesised query: `(select ...) union (select ...)`.
  if (text[i] === "(") return { ok: true, leading: "(" };
  const first = keywordAt(text, i);
  if (!first.word) return { ok: false, leading: text.slice(i, i + 12) };
  if (first.word === "explain") return checkExplain(text, first.end);
  if (SINGLE.has(first.word)) return { ok: true, leading: first.word };
  const pair = PAIRS[first.word];
  if (pair) {
    i = skipTrivia(text, first.end);
    const second = keywordAt(text, i);
    return { ok: pair.has(second.word), leading: `${first.word} ${second.word}`.trim() };
  }
  return { ok: false, leading: first.word };
}
