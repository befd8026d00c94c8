// An API Hangar lacks fails naming itself, instead of QuickJS's bare
// "not a function".

/** Define each missing `names` on `obj` as a function that throws "<path>.<name> is not supported in Hangar". */
export function unsupported(obj, path, names) {
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(obj, name)) continue;
    const fn = function () { throw new TypeError(`${path}.${name} is not supported in Hangar`); };
    Object.defineProperty(fn, "name", { value: name });
    Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true, enumerable: false });
  }
  return obj;
}

/** A proxy over a namespace whose every member is known: an unknown method name throws naming itself when called. */
export function namedMembers(obj, path) {
  return new Proxy(obj, {
    get(target, key, receiver) {
      if (typeof key === "symbol" || key in target) return Reflect.get(target, key, receiver);
      if (key === "then" || key === "toJSON" || key === "constructor") return undefined;
      return function () { throw new TypeError(`${path}.${key} is not supported in Hangar`); };
    },
  });
}
