/**
 * A problem with the configuration that the user must fix (unknown key, wrong type, invalid value). The
 * message is one line, names the offending key and where it came from, and is meant to be shown as is.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
