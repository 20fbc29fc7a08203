/** Prefix of every option-validation message, so users know which package complained. */
export const PACKAGE = "@certbound/credential-cert";
