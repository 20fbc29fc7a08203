/** jose's API, as loaded at run time. */
export type Jose = typeof import("jose");

let loading: Promise<Jose> | undefined;
let loaded: Jose | undefined;

/**
 * jose 6 is published as ES modules only. Loading it with `import()` (which the CommonJS build
 * keeps as `import()`) lets `require("@certbound/resource-server")` work on every Node 20, not only
 * on the ones that can `require()` an ES module. After the first call the module is at hand
 * without a wait.
 */
export function loadJose(): Jose | Promise<Jose> {
  if (loaded) return loaded;
  loading ??= import("jose").then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** Options of jose's `jwtVerify`. */
export type JwtVerifyOptions = NonNullable<Parameters<Jose["jwtVerify"]>[2]>;
