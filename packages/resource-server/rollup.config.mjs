import { packageConfig } from "../../rollup.base.mjs";

export default packageConfig({ index: "src/index.ts", express: "src/express.ts", fastify: "src/fastify.ts" });
