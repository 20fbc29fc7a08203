// CBC decryption shared by the encryption schemes. A wrong key shows only as bad padding, so a
// failed padding check is an answer (`undefined`), not an error: the caller decides whether it
// means a wrong passphrase.
import { createDecipheriv } from "node:crypto";
import { invalidPfx } from "./errors";

/** Checks that ciphertext is a whole, non-zero number of blocks: anything else is a damaged file. */
export function assertBlocks(data: Buffer, blockSize: number, what: string): void {
  if (data.length === 0 || data.length % blockSize !== 0) {
    throw invalidPfx(`${what} is not a whole number of cipher blocks`);
  }
}

/** Decrypts with a node:crypto CBC cipher and removes the PKCS#7 padding; `undefined` when the padding is wrong. */
export function nodeCbcDecrypt(cipher: string, key: Buffer, iv: Buffer, data: Buffer): Buffer | undefined {
  let decipher: ReturnType<typeof createDecipheriv>;
  try {
    decipher = createDecipheriv(cipher, key, iv);
  } catch {
    // Key and IV sizes are checked before, so this is a cipher the local OpenSSL does not offer.
    throw invalidPfx(`the cipher ${cipher} is not available in this Node.js build`);
  }
  try {
    return Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    return undefined;
  } finally {
    key.fill(0);
  }
}

/** Removes PKCS#7 padding (RFC 5652 section 6.3); `undefined` when it is not well formed. */
export function removePadding(data: Buffer, blockSize: number): Buffer | undefined {
  const n = data.at(-1);
  if (n === undefined || n < 1 || n > blockSize || n > data.length) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}
