// packages/emulator/README.md, "Fault injection" and "Statistics", against a running emulator.
import type { Emulator } from "@certbound/emulator";

declare const emu: Emulator;

// #region readme-emulator-faults
emu.injectFault("imdsToken", { status: 500, count: 3 });             // three IMDS-shaped 500s
emu.injectFault("mtlsToken", { status: 429, headers: { "retry-after": "5" } }); // Entra-shaped 429
emu.injectFault("issueCredential", { status: 200, body: "{not json" }); // malformed body
emu.injectFault("getPlatformMetadata", { body: "x".repeat(5_000_000) }); // oversized (status 500)
emu.injectFault("compute", { delayMs: 2000 });                        // normal answer, 2 s later
emu.injectFault("resource", { headers: { "x-trace": "1" } });          // normal answer, extra header
emu.injectFault("token", { hang: true });                             // never answers (until close)
emu.injectFault("appService", { reset: true });                       // connection destroyed
emu.clearFaults();
// #endregion readme-emulator-faults

// #region readme-emulator-stats
const { requests, handshakes, recent } = emu.stats();
requests.mtlsToken;                 // requests per endpoint
handshakes.mtls;                    // completed TLS handshakes per HTTPS server
recent.at(-1)?.form?.scope;         // the last 200 requests, oldest first
recent.at(-1)?.clientCertificateX5tS256;
emu.resetStats();
// #endregion readme-emulator-stats
