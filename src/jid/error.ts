/** A JID (or one of its parts) is invalid; the message says what is wrong, e.g. "localpart too long". */
export class JidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JidError";
  }
}
