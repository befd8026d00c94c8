// Function secrets: encrypted at rest, handed to functions as `env`.
export { SecretsCache, type SecretsCacheOptions } from "./cache.ts";
export { decryptSecret, deriveKey, encryptSecret } from "./crypto.ts";
export { SecretsError } from "./errors.ts";
export { listSecrets, loadEnv, SECRETS_CHANNEL, setSecret, unsetSecret, type SecretInfo } from "./store.ts";
