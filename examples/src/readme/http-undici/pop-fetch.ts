// packages/http-undici/README.md, "fetch with a PoP token". The prelude is the app (any certbound
// credential) from "Use it".
import type { Credential } from "@certbound/core";

declare const app: Credential;

// #region readme-undici-pop-fetch
import { createPopFetch } from "@certbound/http-undici";

const popFetch = createPopFetch({ credential: app, scopes: ["api://my-api/.default"] });
const response = await popFetch("https://api.contoso.example/items");
console.log(response.status, await response.json());
await popFetch.close();
// #endregion readme-undici-pop-fetch
