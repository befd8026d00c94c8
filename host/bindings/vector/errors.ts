/** A guest-catchable vector error with a stable `code`. */
export class VectorError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = "VectorError";
    this.code = code;
  }
}
