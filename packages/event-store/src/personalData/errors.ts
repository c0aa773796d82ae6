/**
 * Raised at start when personal data cannot be handled safely: a master key that is malformed or
 * not the one the data keys were wrapped with, or personal data declared where the store cannot
 * keep it encrypted. The server should refuse to start.
 */
export class PersonalDataConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PersonalDataConfigError";
  }
}

/**
 * A sealed field that does not open under its subject's key although the key is there: the stored
 * value was altered, or written under another key. Never raised for erased data, which reads empty.
 */
export class PersonalDataIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PersonalDataIntegrityError";
  }
}
