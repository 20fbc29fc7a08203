// @azure/identity 4.14.x (the version the interop tests must run) and its @azure/core-process
// declare Node >= 22, and engineStrict refuses them on the project's Node 20. The interop tests
// run them on Node 20 end to end, so exactly these two releases are let through; every other
// package keeps the engine check (its Node-20 releases are pinned in pnpm-workspace.yaml overrides).
const PROVEN_ON_NODE_20 = new Set(["@azure/identity@4.14.1", "@azure/core-process@1.0.0"]);

module.exports = {
  hooks: {
    readPackage(pkg) {
      if (PROVEN_ON_NODE_20.has(`${pkg.name}@${pkg.version}`)) delete pkg.engines;
      return pkg;
    },
  },
};
