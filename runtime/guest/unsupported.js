// An API Hangar lacks fails naming itself, instead of QuickJS's bare
// "not a function". Only members the other runtimes have are defined so:
// a name no runtime has stays undefined, so feature checks see it missing.

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
