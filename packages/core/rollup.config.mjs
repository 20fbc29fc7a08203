import { packageConfig } from "../../rollup.base.mjs";

export default packageConfig({
  index: "src/index.ts",
  "credential-kit": "src/credential-kit/index.ts",
  "transport-kit": "src/transport-kit/index.ts",
});
