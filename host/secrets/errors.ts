import { HangarError } from "../errors.ts";

/** A secrets failure: SECRET_KEY_MISSING, SECRET_DECRYPT, SECRET_INVALID. */
export class SecretsError extends HangarError {}
