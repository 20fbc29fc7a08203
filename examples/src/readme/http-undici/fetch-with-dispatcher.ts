// packages/http-undici/README.md, "undici's own fetch with a token's certificate". The prelude is
// the transport and a PoP token from "Use it".
import type { TokenResult } from "@certbound/core";
import type { UndiciTransport } from "@certbound/http-undici";

declare const transport: UndiciTransport;
declare const token: TokenResult;

// #region readme-undici-fetch
import { fetch } from "undici";

const res = await fetch("https://api.contoso.example/items", {
  dispatcher: transport.dispatcherFor(token.bindingCertificate),
  headers: { authorization: `Bearer ${token.accessToken}` },
});
// #endregion readme-undici-fetch

console.log(res.status);
