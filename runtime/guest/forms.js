// Blob, File, FormData, and multipart/form-data encoding and parsing
// (serialisation as undici does it; the host finds part boundaries).
import { native, bytesOf, bufferOf } from "./native.js";
import { TextEncoder, TextDecoder } from "./encoding.js";
import { URLSearchParams } from "./url.js";
import { streams } from "./streams.js";

const encoder = new TextEncoder();
const BLOB_BYTES = Symbol("hangar.blobBytes");

function concat(parts) {
  if (parts.length === 1) return parts[0];
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return out;
}

function normaliseType(type) {
  const t = type === undefined ? "" : String(type);
  return /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : "";
}

export class Blob {
  constructor(parts = [], options = {}) {
    if (parts === null || typeof parts !== "object" || typeof parts[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
    }
    const chunks = [];
    for (const p of parts) {
      if (p instanceof Blob) chunks.push(p[BLOB_BYTES]);
      else {
        const b = bytesOf(p);
        chunks.push(b ? b.slice() : encoder.encode(String(p)));
      }
    }
    this[BLOB_BYTES] = chunks.length ? concat(chunks) : new Uint8Array(0);
    this._type = normaliseType(options && options.type);
  }
  get size() { return this[BLOB_BYTES].byteLength; }
  get type() { return this._type; }
  slice(start = 0, end = this.size, type = "") {
    const n = this.size;
    const rel = (x) => { x = Math.trunc(Number(x)) || 0; return x < 0 ? Math.max(n + x, 0) : Math.min(x, n); };
    const s = rel(start), e = rel(end);
    const b = new Blob([], { type });
    b[BLOB_BYTES] = this[BLOB_BYTES].slice(s, Math.max(s, e));
    return b;
  }
  async arrayBuffer() { return this[BLOB_BYTES].slice().buffer; }
  async bytes() { return this[BLOB_BYTES].slice(); }
  async text() { return new TextDecoder().decode(this[BLOB_BYTES]); }
  stream() {
    const bytes = this[BLOB_BYTES];
    return new (streams().ReadableStream)({ type: "bytes", start(c) { if (bytes.byteLength) c.enqueue(bytes.slice()); c.close(); } });
  }
  get [Symbol.toStringTag]() { return "Blob"; }
}

export class File extends Blob {
  constructor(parts, name, options = {}) {
    if (arguments.length < 2) throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    super(parts, options);
    this._name = String(name);
    const lm = options && options.lastModified;
    this._lastModified = lm === undefined ? Date.now() : Math.trunc(Number(lm)) || 0;
  }
  get name() { return this._name; }
  get lastModified() { return this._lastModified; }
  get webkitRelativePath() { return ""; }
  get [Symbol.toStringTag]() { return "File"; }
}

/** The bytes inside a Blob (no copy). */
export function blobBytes(b) { return b[BLOB_BYTES]; }

function entryValue(value, filename, n) {
  if (value instanceof Blob) {
    if (filename !== undefined) return new File([value], String(filename), { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined });
    if (value instanceof File) return value;
    return new File([value], "blob", { type: value.type });
  }
  if (n > 2) throw new TypeError("Failed to execute 'append' on 'FormData': parameter 2 is not of type 'Blob'.");
  return String(value);
}

export class FormData {
  constructor(form) {
    if (form !== undefined) throw new TypeError("Failed to construct 'FormData': parameter 1 is not of type 'HTMLFormElement'.");
    this._entries = [];
  }
  append(name, value, filename) { this._entries.push([String(name), entryValue(value, filename, arguments.length)]); }
  set(name, value, filename) {
    const n = String(name);
    const v = entryValue(value, filename, arguments.length);
    const i = this._entries.findIndex((e) => e[0] === n);
    if (i === -1) { this._entries.push([n, v]); return; }
    this._entries[i] = [n, v];
    this._entries = this._entries.filter((e, j) => j <= i || e[0] !== n);
  }
  delete(name) { const n = String(name); this._entries = this._entries.filter((e) => e[0] !== n); }
  get(name) { const n = String(name); const e = this._entries.find((x) => x[0] === n); return e ? e[1] : null; }
  getAll(name) { const n = String(name); return this._entries.filter((x) => x[0] === n).map((x) => x[1]); }
  has(name) { const n = String(name); return this._entries.some((x) => x[0] === n); }
  forEach(cb, thisArg) { for (const [k, v] of this) cb.call(thisArg, v, k, this); }
  *entries() { for (let i = 0; i < this._entries.length; i++) yield [this._entries[i][0], this._entries[i][1]]; }
  *keys() { for (const [k] of this.entries()) yield k; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return "FormData"; }
}

const escapeName = (s) => s.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
const crlf = (s) => s.replace(/\r?\n|\r/g, "\r\n");

/** [bytes, content-type] of a FormData as multipart/form-data. */
export function encodeMultipart(form) {
  const rnd = new Uint8Array(native.randomBytes(16));
  const boundary = "----formdata-hangar-" + Array.from(rnd, (b) => b.toString(16).padStart(2, "0")).join("");
  const parts = [];
  for (const [name, value] of form) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(crlf(name))}"`;
    if (typeof value === "string") {
      parts.push(encoder.encode(`${head}\r\n\r\n${crlf(value)}\r\n`));
    } else {
      head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
      parts.push(encoder.encode(head), value[BLOB_BYTES], encoder.encode("\r\n"));
    }
  }
  parts.push(encoder.encode(`--${boundary}--\r\n`));
  return [concat(parts), `multipart/form-data; boundary=${boundary}`];
}

/** A content-type parameter's value (quoted or not). */
function param(contentType, key) {
  const re = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i");
  const m = re.exec(contentType);
  return m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]) : null;
}

function dispositionParam(header, key) {
  const re = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i");
  const m = re.exec(header);
  if (!m) return null;
  const v = m[1] !== undefined ? m[1].replace(/\\(["\\])/g, "$1") : m[2].trim();
  // browsers and undici escape these when sending (see encodeMultipart)
  return v.replace(/%0A/gi, "\n").replace(/%0D/gi, "\r").replace(/%22/g, '"');
}

const decoder = new TextDecoder();

/** Parse a multipart/form-data body into a FormData. */
export function parseMultipart(bytes, contentType) {
  const boundary = param(contentType, "boundary");
  if (!boundary) throw new TypeError("Failed to parse body as FormData: multipart/form-data without a boundary");
  const split = native.multipartSplit(bufferOf(bytes), boundary);
  const offsets = split === null ? null : JSON.parse(split);
  if (offsets === null) throw new TypeError("Failed to parse body as FormData: malformed multipart/form-data");
  const form = new FormData();
  for (let i = 0; i < offsets.length; i += 2) {
    const part = bytes.subarray(offsets[i], offsets[i + 1]);
    let headEnd = -1;
    for (let j = 0; j + 3 < part.length; j++) if (part[j] === 13 && part[j + 1] === 10 && part[j + 2] === 13 && part[j + 3] === 10) { headEnd = j; break; }
    if (headEnd === -1) throw new TypeError("Failed to parse body as FormData: a part has no header end");
    const headers = {};
    for (const line of decoder.decode(part.subarray(0, headEnd)).split("\r\n")) {
      const c = line.indexOf(":");
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const disp = headers["content-disposition"];
    if (!disp || !/^form-data/i.test(disp)) throw new TypeError("Failed to parse body as FormData: a part lacks Content-Disposition: form-data");
    const name = dispositionParam(disp, "name");
    if (name === null) throw new TypeError("Failed to parse body as FormData: a part has no name");
    const filename = dispositionParam(disp, "filename");
    const body = part.subarray(headEnd + 4);
    if (filename !== null) form.append(name, new File([body], filename, { type: headers["content-type"] || "application/octet-stream" }));
    else form.append(name, decoder.decode(body));
  }
  return form;
}

/** Parse a body per its content type (multipart or urlencoded) into a FormData. */
export function parseFormBody(bytes, contentType) {
  const ct = contentType || "";
  if (/^multipart\/form-data/i.test(ct)) return parseMultipart(bytes, ct);
  if (/^application\/x-www-form-urlencoded/i.test(ct)) {
    const form = new FormData();
    for (const [k, v] of new URLSearchParams(decoder.decode(bytes))) form.append(k, v);
    return form;
  }
  throw new TypeError(`Failed to parse body as FormData: content-type "${ct}" is neither multipart/form-data nor application/x-www-form-urlencoded`);
}
