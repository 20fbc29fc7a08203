// The total key-derivation work one PFX may cost. Work is counted in iterations x derived blocks,
// the number of times the KDF's inner hash (or HMAC) chain runs: PBKDF2 runs its chain once per
// block of the key (`ceil(keyLength / prfSize)`), the PKCS#12 KDF once per block of the key and
// once for the IV. Charged where node-forge calls them (see metered-forge.ts).
import { tooMuchWork } from "./errors";

export class PfxWorkBudget {
  #spent = 0;

  constructor(readonly limit: number) {}

  /** The work done so far. */
  get spent(): number {
    return this.#spent;
  }

  /**
   * Refuses, before any of it is done, the work a part of the file declares when it cannot fit in
   * what is left: a file that asks for too much fails without spending any of it.
   */
  preflight(declared: number): void {
    if (!(this.#spent + declared <= this.limit)) throw tooMuchWork(this.#spent + declared, this.limit);
  }

  /** Counts work about to be done; refuses it when it would go over the limit. */
  charge(units: number): void {
    // Written so that a count that is not a number (NaN) is refused instead of passing every check.
    if (!(units >= 0 && this.#spent + units <= this.limit))
      throw tooMuchWork(this.#spent + units, this.limit);
    this.#spent += units;
  }
}
