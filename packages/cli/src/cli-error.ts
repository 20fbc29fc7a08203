/**
 * An error of the command line itself (a file that cannot be read, text that is not a JWT), with a
 * stable code printed like the library's codes.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: "usage" | "file_unreadable" | "invalid_jwt",
    message: string,
  ) {
    super(message);
  }
}
