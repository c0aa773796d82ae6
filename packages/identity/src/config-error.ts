/** Raised at start when identity's configuration cannot work; the server should refuse to start. */
export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityConfigError";
  }
}
