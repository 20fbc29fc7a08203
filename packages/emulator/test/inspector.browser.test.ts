// The inspector in a real browser: Debian's Chromium, headless, driven by playwright-core (no
// browser download). `npm test` installs Chromium first (scripts/ensure-chromium.mjs); this file
// fails, never skips, when it is missing.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCertificateAuthority, type IssuedCertificate } from "@certbound/core/credential-kit";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../src/index";
import { imdsV2Flow, popFlow } from "./inspector-helpers";

const CHROMIUM = "/usr/bin/chromium";
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const SCREENSHOT = join(repoRoot, ".ci/out/inspector.png");
// The README's picture; refreshed with CERTBOUND_UPDATE_SCREENSHOT=1.
const README_SCREENSHOT = fileURLToPath(new URL("../docs/inspector.png", import.meta.url));
const APP = "browser-app";

// This file compiles without the DOM library; the functions run in the page use these globals.
type BrowserWindow = {
  getComputedStyle(node: unknown): { backgroundColor: string };
  scrollTo(x: number, y: number): void;
};

let emu: Emulator;
let signingKey: KeyObject;
let app: IssuedCertificate;
let other: IssuedCertificate;
let context: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing. Run the README's test command (npm test), which installs Debian's chromium, or: apt-get update && apt-get install -y chromium`,
    );
  }
  signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  emu = await startEmulator({ signingKey, inspector: true });
  app = createCertificateAuthority().issue({ commonName: "browser-app" });
  other = createCertificateAuthority().issue({ commonName: "a-different-certificate" });
  emu.registerConfidentialClient({ clientId: APP, certificatePem: app.certificatePem });
  profile = mkdtempSync(join(tmpdir(), "certbound-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    // The emulator's CA is not in the browser's store; a person clicks through (see the README).
    ignoreHTTPSErrors: true,
    viewport: { width: 1360, height: 1100 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.goto(String(emu.inspectorUrl));
  await page.locator("#connection.on").waitFor();
}, 120_000);

afterAll(async () => {
  await context?.close();
  await emu?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// A browser on two shared cores: a generous bound per test (vitest projects default to 5 s).
describe("inspector in Chromium", { timeout: 30_000 }, () => {
  it("shows a PoP flow and a mismatching resource call, with both thumbprints and the red mismatch", async () => {
    const good = await popFlow(emu, { clientId: APP, tokenIdentity: app });
    expect(good.resource?.status).toBe(200);
    const bad = await popFlow(emu, { clientId: APP, tokenIdentity: app, resourceIdentity: other });
    expect(bad.resource?.status).toBe(401);

    await expect.poll(() => page.locator(".flow").count()).toBe(2);
    const mismatch = page.locator(".flow .binding.mismatch");
    await mismatch.waitFor();
    const mismatchText = await mismatch.textContent();
    expect(mismatchText).toContain(app.x5tS256);
    expect(mismatchText).toContain(other.x5tS256);
    expect(mismatchText).toContain("certificate_mismatch");
    expect(
      await mismatch.evaluate(
        (n) => (globalThis as unknown as BrowserWindow).getComputedStyle(n).backgroundColor,
      ),
    ).toBe("rgb(253, 236, 234)");
    const match = page.locator(".flow .binding.match");
    expect(await match.count()).toBe(1);
    expect(
      await match.evaluate(
        (n) => (globalThis as unknown as BrowserWindow).getComputedStyle(n).backgroundColor,
      ),
    ).toBe("rgb(230, 244, 234)");
    // The mismatching flow's first failing step is the resource call.
    const failedFlow = page.locator(".flow.flow-failed");
    expect(await failedFlow.locator(".step.first-failure").getAttribute("data-endpoint")).toBe("resource");
    // Request log rows carry the client certificates' thumbprints.
    expect(await page.locator("#log tbody tr").count()).toBe(4);
    expect(await page.locator(`#log [data-x5t="${other.x5tS256}"]`).count()).toBe(1);

    // No token on the page until asked; then exactly the one asked for.
    const goodToken = String(good.token.json.access_token);
    expect(await page.content()).not.toContain(goodToken.split(".")[2]);
    await page.locator(".flow.flow-ok .reveal").first().click();
    await page.locator(".flow.flow-ok .raw-token").waitFor();
    expect(await page.locator(".flow.flow-ok .raw-token").textContent()).toBe(goodToken);
    await page.getByRole("button", { name: "Hide token" }).click();
    expect(await page.locator(".raw-token").count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("draws a managed identity's IMDS v2 flow as four steps", async () => {
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const flow = await imdsV2Flow(emu, keys);
    expect(flow.resource.status).toBe(200);
    await expect.poll(() => page.locator(".flow").count()).toBe(3);
    const steps = await page
      .locator(".flow")
      .first()
      .locator(".step")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-endpoint")));
    expect(steps).toEqual(["getPlatformMetadata", "issueCredential", "mtlsToken", "resource"]);
  });

  it("injects a fault from the page and the next flow fails at that step", async () => {
    await page.selectOption("#fault-endpoint", "mtlsToken");
    await page.fill('#fault-form input[name="status"]', "503");
    await page.click("#inject-fault");
    await page.locator('.pending-fault[data-endpoint="mtlsToken"]').waitFor();
    expect(await page.locator("#pending-faults").textContent()).toContain("HTTP 503");

    const faulted = await popFlow(emu, { clientId: APP, tokenIdentity: app });
    expect(faulted.token.status).toBe(503);
    await expect.poll(() => page.locator(".flow").count()).toBe(4);
    const newest = page.locator(".flow").first();
    expect(await newest.getAttribute("class")).toContain("flow-failed");
    const first = newest.locator(".step.first-failure");
    expect(await first.getAttribute("data-endpoint")).toBe("mtlsToken");
    expect(await first.locator(".fault-badge").textContent()).toContain("injected");
    await screenshot();
    // One use: the fault is gone from the page's list, and the next flow succeeds.
    await expect.poll(() => page.locator(".pending-fault").count()).toBe(0);
    expect((await popFlow(emu, { clientId: APP, tokenIdentity: app })).resource?.status).toBe(200);
  });

  it("registers a confidential client from a pasted PEM and lists it", async () => {
    const pasted = createCertificateAuthority().issue({ commonName: "pasted-in-browser" });
    await page.fill('#client-form input[name="clientId"]', "pasted-app");
    await page.fill('#client-form textarea[name="certificatePem"]', pasted.certificatePem);
    await page.click("#register-client");
    await page.locator('#clients [data-client="pasted-app"]').waitFor();
    expect(await page.locator('#clients [data-client="pasted-app"]').textContent()).toContain(pasted.x5tS256);
    expect((await popFlow(emu, { clientId: "pasted-app", tokenIdentity: pasted })).resource?.status).toBe(
      200,
    );
    expect(await page.locator("#identities li").first().textContent()).toContain(
      emu.systemAssignedIdentity.clientId,
    );
  });
});

describe("inspector in Chromium, from the attacker's side", { timeout: 30_000 }, () => {
  it("shows markup sent in a client id, a certificate subject, a correlation id and a path as text", async () => {
    const payloads = {
      clientId: "<img src=x onerror=__pwned=1>",
      commonName: "<svg/onload=__pwned=2>",
      correlationId: "<script>__pwned=3</script>",
    };
    const evil = createCertificateAuthority().issue({ commonName: payloads.commonName });
    emu.registerConfidentialClient({ clientId: payloads.clientId, certificatePem: evil.certificatePem });
    const flow = await popFlow(emu, {
      clientId: payloads.clientId,
      tokenIdentity: evil,
      correlationId: payloads.correlationId,
    });
    expect(flow.resource?.status).toBe(200);
    // A raw path: the URL class would percent-encode the brackets.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const target = new URL(emu.resourceUrl);
      const req = httpsRequest(
        {
          host: target.hostname,
          port: target.port,
          path: "/<iframe/src=javascript:__pwned=4>",
          ca: emu.caCertificatePem,
          cert: evil.certificatePem,
          key: evil.keyPem,
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);

    await page.locator(`#clients [data-client="${payloads.clientId}"]`).waitFor({ timeout: 10_000 });
    await page.locator(".flow", { hasText: payloads.correlationId }).waitFor({ timeout: 10_000 });
    await page.locator("#log td.path", { hasText: "<iframe/src=javascript:" }).waitFor({ timeout: 10_000 });
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).toContain(payloads.clientId);
    // Node escapes "=" in a subject value; the markup still arrives as text.
    expect(text).toContain("<svg/onload");
    expect(text).toContain(payloads.correlationId);
    expect(await page.locator("main img, main svg, main iframe, main script").count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
  });
});

/** Saves what the page shows now: a faulted flow, the IMDS v2 flow and the red mismatch. */
async function screenshot(): Promise<void> {
  mkdirSync(join(repoRoot, ".ci/out"), { recursive: true });
  await page.evaluate(() => (globalThis as unknown as BrowserWindow).scrollTo(0, 0));
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  if (process.env.CERTBOUND_UPDATE_SCREENSHOT === "1") copyFileSync(SCREENSHOT, README_SCREENSHOT);
}
