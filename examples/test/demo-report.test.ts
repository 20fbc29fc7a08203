import { describe, expect, it } from "vitest";
import { wrap } from "../src/demo-report";

describe("demo wrap", () => {
  const samples = [
    "",
    "short",
    "hello world foo bar",
    `a ${"x".repeat(23)} b`,
    "https://127.0.0.1:35933/37c18346-8d9c-4790-b3d7-d9e550929ee9/oauth2/v2.0/token",
    "binding_certificate_mismatch: The resource refused the token because the TLS client certificate (x5t#S256 DUD964cv7AegT-puybyUftsjnHo0-j9TOSc2K2Du5Jw) is not the one",
  ];

  it.each([5, 10, 20, 40, 71])("keeps every character and no line exceeds %i", (width) => {
    for (const text of samples) {
      const lines = wrap(text, width);
      expect(lines.filter((l) => l.length > width)).toEqual([]);
      // only spaces may become line breaks
      expect(lines.join("").replaceAll(" ", "")).toBe(text.replaceAll(" ", ""));
    }
  });

  it("breaks at spaces, and a URL longer than a line after a slash", () => {
    expect(wrap("hello world foo", 11)).toEqual(["hello world", "foo"]);
    expect(
      wrap("https://127.0.0.1:35933/37c18346-8d9c-4790-b3d7-d9e550929ee9/oauth2/v2.0/token", 71),
    ).toEqual(["https://127.0.0.1:35933/37c18346-8d9c-4790-b3d7-d9e550929ee9/oauth2/", "v2.0/token"]);
  });
});
