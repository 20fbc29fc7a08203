import { packageConfig } from "../../rollup.base.mjs";

export default packageConfig({ index: "src/index.ts" });
