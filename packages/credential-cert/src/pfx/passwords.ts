// A passphrase reaches the key derivation functions as bytes, and PKCS#12 has more than one
// opinion about which bytes. These are the candidates a reader has to try, in OpenSSL's order.

/** One way of turning the passphrase into bytes. */
export interface PasswordForm {
  /** For the PKCS#12 KDF (MAC and the pbeWithSHAAnd... schemes): UTF-16BE, two zero bytes at the end. */
  readonly bmp: Buffer;
  /** For PBKDF2 (PBES2): UTF-8. */
  readonly utf8: Buffer;
}

function utf16be(text: string): Buffer {
  const bytes = Buffer.from(`${text}\u0000`, "utf16le");
  return bytes.swap16();
}

/**
 * The forms to try. An empty passphrase is either no password at all (zero bytes, what Windows and
 * OpenSSL try first) or the empty string (just the terminator). A non-ASCII passphrase may come from
 * a writer that widened each UTF-8 byte to 16 bits (OpenSSL before 1.1.0 did).
 */
export function passwordForms(passphrase: string): PasswordForm[] {
  const utf8 = Buffer.from(passphrase, "utf8");
  if (passphrase === "") {
    return [
      { bmp: Buffer.alloc(0), utf8 },
      { bmp: Buffer.alloc(2), utf8 },
    ];
  }
  const forms = [{ bmp: utf16be(passphrase), utf8 }];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point.
  if (!/^[\u0000-\u007f]*$/.test(passphrase)) {
    const widened = Buffer.alloc(utf8.length * 2 + 2);
    utf8.forEach((byte, i) => {
      widened[i * 2 + 1] = byte;
    });
    forms.push({ bmp: widened, utf8 });
  }
  return forms;
}
