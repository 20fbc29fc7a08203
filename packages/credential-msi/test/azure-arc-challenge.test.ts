import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readArcChallenge } from "../src/azure-arc-challenge";

const root = mkdtempSync(join(tmpdir(), "certbound-arc-"));
const folder = join(root, "tokens");
const outside = join(root, "outside");
mkdirSync(folder);
mkdirSync(outside);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const write = (dir: string, name: string, contents: string) => {
  const file = join(dir, name);
  writeFileSync(file, contents);
  return file;
};

describe("readArcChallenge", () => {
  it("reads a small .key file inside the token folder", async () => {
    const file = write(folder, "a.key", "s3cret\n");
    await expect(readArcChallenge(`Basic realm=${file}`, folder, "c")).resolves.toBe("s3cret");
    await expect(readArcChallenge(`basic realm="${file}"`, folder, "c")).resolves.toBe("s3cret");
  });

  const refusals: Array<[string, () => string | undefined, RegExp]> = [
    ["no challenge", () => undefined, /no `WWW-Authenticate/],
    ["a Bearer challenge", () => 'Bearer realm="x"', /no `WWW-Authenticate/],
    ["a relative path", () => "Basic realm=tokens/a.key", /not absolute/],
    ["a file outside the folder", () => `Basic realm=${write(outside, "b.key", "x")}`, /not inside/],
    ["a path escaping with ..", () => `Basic realm=${join(folder, "..", "outside", "b.key")}`, /not inside/],
    [
      "a link inside the folder pointing outside",
      () => {
        const target = write(outside, "c.key", "x");
        const link = join(folder, "link.key");
        symlinkSync(target, link);
        return `Basic realm=${link}`;
      },
      /symbolic link/,
    ],
    [
      // Issue 12 item 15: even a link to one of the agent's own files is not what the agent writes.
      "a link inside the folder pointing at a key file inside it",
      () => {
        const target = write(folder, "real.key", "x");
        const link = join(folder, "alias.key");
        symlinkSync(target, link);
        return `Basic realm=${link}`;
      },
      /symbolic link/,
    ],
    [
      "a folder named like a key file",
      () => {
        const dir = join(folder, "dir.key");
        mkdirSync(dir);
        return `Basic realm=${dir}`;
      },
      /not a regular file/,
    ],
    ["a file without the .key extension", () => `Basic realm=${write(folder, "d.txt", "x")}`, /\.key/],
    [
      "a file larger than 4096 bytes",
      () => `Basic realm=${write(folder, "e.key", "x".repeat(4097))}`,
      /larger than the 4096/,
    ],
    ["a missing file", () => `Basic realm=${join(folder, "missing.key")}`, /does not exist/],
    ["an empty file", () => `Basic realm=${write(folder, "f.key", "")}`, /empty/],
  ];
  for (const [name, header, message] of refusals) {
    it(`refuses ${name}`, async () => {
      const error = await readArcChallenge(header(), folder, "corr").catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "managed_identity_request_failed", correlationId: "corr" });
      expect((error as Error).message).toMatch(message);
    });
  }

  it("accepts exactly 4096 bytes and never puts the contents in an error", async () => {
    const file = write(folder, "g.key", "k".repeat(4096));
    await expect(readArcChallenge(`Basic realm=${file}`, folder, "c")).resolves.toHaveLength(4096);
    const secret = write(folder, "h.key", "line1\nline2-secret");
    const error = (await readArcChallenge(`Basic realm=${secret}`, folder, "c").catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).not.toContain("secret");
  });

  it("refuses when the token folder does not exist", async () => {
    const file = write(folder, "i.key", "x");
    await expect(readArcChallenge(`Basic realm=${file}`, join(root, "nope"), "c")).rejects.toThrow(
      /token folder/,
    );
  });

  // Issue 12 item 15 (outside review): four FIFOs named by a hostile challenge used to hold all four
  // of libuv's pool threads in open(2), waiting for a writer, so every later `fs` call of the process
  // hung. Real FIFOs, made with the mkfifo CLI (node:fs cannot make one).
  it.skipIf(process.platform === "win32")(
    "refuses FIFOs without opening them, so the thread pool stays free",
    async () => {
      const fifos = [1, 2, 3, 4, 5].map((n) => {
        const path = join(folder, `fifo-${n}.key`);
        execFileSync("mkfifo", [path]);
        return path;
      });
      const errors = await Promise.all(
        fifos.map((path) => readArcChallenge(`Basic realm=${path}`, folder, "c").catch((e: unknown) => e)),
      );
      for (const error of errors) {
        expect(error).toMatchObject({ code: "managed_identity_request_failed" });
        expect((error as Error).message).toMatch(/not a regular file/);
      }
      // Every pool thread is free: an ordinary read still completes.
      const plain = write(folder, "after.key", "still-readable");
      await expect(readFile(plain, "utf8")).resolves.toBe("still-readable");
      await expect(readArcChallenge(`Basic realm=${plain}`, folder, "c")).resolves.toBe("still-readable");
    },
  );
});
