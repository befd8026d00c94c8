// Injected into every bundle: free `process` and `Buffer` resolve here (only when used).
export { default as process } from "node:process";
export { Buffer } from "node:buffer";
