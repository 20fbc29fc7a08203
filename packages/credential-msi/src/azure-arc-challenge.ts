import { constants } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import { extname, isAbsolute, relative, resolve, sep } from "node:path";
import { CertboundError } from "@certbound/core";
import { sanitizeServerText } from "@certbound/core/credential-kit";

/** The largest challenge file accepted: the agent's key files are a few dozen bytes. */
export const ARC_MAX_KEY_FILE_BYTES = 4096;

// Opening never follows a link and never waits: a FIFO opened without O_NONBLOCK holds one of
// libuv's four pool threads until a writer appears, and four of them stop every `fs` call of the
// process. (Windows has neither flag and no FIFOs or symlinks an unprivileged peer could plant.)
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/**
 * Reads the file named by the Azure Arc agent's `WWW-Authenticate: Basic realm=<file>` challenge.
 * Anyone able to answer on the agent's port could name any file, so the file must be a regular file
 * (not a link, FIFO, socket or device) inside the agent's token folder, end in `.key`, and be at
 * most 4096 bytes; anything else is refused with `managed_identity_request_failed`. It is checked
 * with lstat, opened with O_NOFOLLOW | O_NONBLOCK (so a FIFO swapped in cannot block libuv's thread
 * pool), checked again on the open descriptor, and read up to one byte past the cap. The contents
 * are a secret and never appear in an error.
 *
 * @example
 * ```ts
 * const secret = await readArcChallenge(response.headers["www-authenticate"], "/var/opt/azcmagent/tokens", correlationId);
 * ```
 */
export async function readArcChallenge(
  header: string | undefined,
  tokenFolder: string,
  correlationId: string,
): Promise<string> {
  const refuse = (reason: string, cause?: unknown): CertboundError =>
    new CertboundError(
      "managed_identity_request_failed",
      // The reason quotes the path the server named: cleaned and capped like any server text.
      `Refused the Azure Arc challenge: ${sanitizeServerText(reason, 1024)}`,
      cause === undefined ? { correlationId } : { correlationId, cause },
    );
  const tooLarge = () =>
    refuse(`the challenge file is larger than the ${ARC_MAX_KEY_FILE_BYTES} bytes an agent key file can be.`);
  const match = /^\s*Basic\s+realm\s*=\s*(?:"([^"]*)"|(\S+))\s*$/i.exec(header ?? "");
  const named = match?.[1] ?? match?.[2];
  if (!named) {
    throw refuse(
      "the 401 answer carries no `WWW-Authenticate: Basic realm=<file>` header. Check that IDENTITY_ENDPOINT points at the Azure Arc agent.",
    );
  }
  if (!isAbsolute(named)) throw refuse("the challenge file path is not absolute.");
  if (extname(named).toLowerCase() !== ".key") {
    throw refuse("the challenge file does not have the `.key` extension the Azure Arc agent uses.");
  }
  let file: string;
  let folder: string;
  try {
    folder = await realpath(resolve(tokenFolder));
  } catch (cause) {
    throw refuse(
      `the Azure Arc token folder ${tokenFolder} does not exist. Install the Azure Connected Machine agent or pass \`arcTokenFolder\`.`,
      cause,
    );
  }
  // lstat does not follow a link, and neither opens nor reads: a FIFO or device named here is
  // refused before anything could wait on it.
  let entry: Awaited<ReturnType<typeof lstat>>;
  try {
    entry = await lstat(named);
  } catch (cause) {
    throw refuse(`the challenge file ${named} does not exist.`, cause);
  }
  if (entry.isSymbolicLink()) {
    throw refuse(
      `the challenge path ${named} is a symbolic link; only the agent's own regular key files are read.`,
    );
  }
  if (!entry.isFile()) throw refuse(`the challenge path ${named} is not a regular file.`);
  try {
    file = await realpath(named);
  } catch (cause) {
    throw refuse(`the challenge file ${named} does not exist.`, cause);
  }
  const inside = relative(folder, file);
  if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw refuse(
      `the challenge file ${named} is not inside the Azure Arc token folder ${tokenFolder}. Only the agent's own key files are read.`,
    );
  }
  if (entry.size > ARC_MAX_KEY_FILE_BYTES) throw tooLarge();
  // The checks above name a path that may be swapped before it is opened: the descriptor is
  // checked again, and at most one byte past the limit is read from it.
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, OPEN_FLAGS);
  } catch (cause) {
    throw refuse(
      `the challenge file ${named} cannot be opened (it must be a regular file, not a link). The process needs read access to the agent's token folder.`,
      cause,
    );
  }
  let bytes: Buffer;
  try {
    if (!(await handle.stat()).isFile()) throw refuse(`the challenge path ${named} is not a regular file.`);
    const buffer = Buffer.alloc(ARC_MAX_KEY_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > ARC_MAX_KEY_FILE_BYTES) throw tooLarge();
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const contents = bytes.toString("utf8").trim();
  if (contents === "" || /[\r\n]/.test(contents)) {
    throw refuse(`the challenge file ${named} is empty or spans several lines.`);
  }
  return contents;
}
