import { describe, expect, it } from "vitest";
import {
  checkProtocolSelfLinks,
  checkShippedText,
  findProtocolLinkProblems,
  PROTOCOL_URL,
  // @ts-expect-error: a plain .mjs script without type declarations
} from "../../scripts/check-protocol-links.mjs";

describe("references to docs/protocol.md (node scripts/check-protocol-links.mjs)", () => {
  it("every shipped file cites protocol.md by its full URL and an anchor that exists", () => {
    expect(findProtocolLinkProblems()).toEqual([]);
  });

  // The check itself, on text written to break it: each of these must be reported.
  const anchors = new Set(["s2-1-mtls-host"]);

  it("reports a bare or relative mention", () => {
    expect(checkShippedText("a.ts", " * the host (protocol.md section 2)", anchors)).toHaveLength(1);
    expect(
      checkShippedText("a.md", "see [the protocol](../../docs/protocol.md#s2-1-mtls-host)", anchors),
    ).toHaveLength(1);
    expect(checkShippedText("a.md", "see `docs/protocol.md`", anchors)).toHaveLength(1);
  });

  it("reports an anchor the document does not define", () => {
    expect(checkShippedText("a.ts", `(${PROTOCOL_URL}#s2-mtls-host)`, anchors)).toEqual([
      "a.ts:1: docs/protocol.md has no anchor #s2-mtls-host",
    ]);
  });

  it("reports a pointer into the private notes", () => {
    expect(checkShippedText("a.md", "as in ../shared/docs/architecture.md", anchors)).toHaveLength(1);
  });

  it("accepts the full URL, with or without a known anchor", () => {
    expect(
      checkShippedText("a.md", `[protocol](${PROTOCOL_URL}) and ${PROTOCOL_URL}#s2-1-mtls-host.`, anchors),
    ).toEqual([]);
  });

  it("accepts protocol.md as the text of a link to the full URL, not of a relative link", () => {
    expect(
      checkShippedText("a.md", `[protocol.md section 2.1](${PROTOCOL_URL}#s2-1-mtls-host)`, anchors),
    ).toEqual([]);
    expect(
      checkShippedText("a.md", "[protocol.md section 2.1](docs/protocol.md#s2-1-mtls-host)", anchors),
    ).toHaveLength(2);
  });

  it("reports a link inside protocol.md to a section it does not have", () => {
    const doc = '<a id="s1"></a>\n\n## 1. One\n\nSee [one](#s1) and [two](#s2).\n';
    expect(checkProtocolSelfLinks(doc)).toEqual(["docs/protocol.md:5: no anchor #s2"]);
  });
});
