// packages/http-axios/README.md, "Your own axios instance".
import { createAxiosTransport } from "@certbound/http-axios";

// #region readme-axios-own-instance
import axios from "axios";

const transport = createAxiosTransport({ axios: axios.create({ headers: { common: { "x-app": "orders" } } }) });
// #endregion readme-axios-own-instance

await transport.close();
