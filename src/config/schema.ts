import type {
  ArchiveConfig,
  AuthConfig,
  C2sConfig,
  ComponentConfig,
  ComponentListenerConfig,
  ContactConfig,
  HearthConfig,
  HttpConfig,
  InvitesConfig,
  LimitsConfig,
  LogConfig,
  MucConfig,
  PushConfig,
  RegistrationConfig,
  StorageConfig,
  TlsConfig,
  TurnConfig,
  UploadConfig,
  WebConfig,
} from "./types.ts";

/**
 * The shape of every configuration key: used to reject unknown keys and wrong types in the file, to parse
 * environment variables, and to check command-line overrides. The mapped types below make the compiler
 * insist that every key of `HearthConfig` is described here.
 */
export type Field =
  | { type: "string" /** relative paths are resolved against the file's directory or the cwd */; path?: boolean }
  | { type: "int"; min: number; max: number; hint?: string }
  | { type: "bool" }
  | { type: "strings" }
  | { type: "enum"; values: readonly string[] }
  | { type: "section"; fields: Fields<object> }
  | { type: "map"; entry: Fields<object> };

/** One `Field` per key of a config section. */
export type Fields<T> = { readonly [K in keyof T]-?: Field };

const port: Field = { type: "int", min: -1, max: 65535, hint: "0 picks a free port, -1 disables the listener" };
const str: Field = { type: "string" };
const strings: Field = { type: "strings" };
const bool: Field = { type: "bool" };
const int = (min: number, max: number, hint?: string): Field => ({ type: "int", min, max, hint });
const section = <T>(fields: Fields<T>): Field => ({ type: "section", fields: fields as Fields<object> });

const log: Fields<LogConfig> = {
  level: { type: "enum", values: ["trace", "debug", "info", "warn", "error", "fatal", "silent"] },
  format: { type: "enum", values: ["pretty", "json"] },
};

const c2s: Fields<C2sConfig> = {
  interfaces: strings,
  port,
  tls_port: port,
  require_encryption: bool,
  // RFC 6120 §13.12: a server must accept stanzas of at least 10000 bytes.
  stanza_size_limit: int(10000, 64 * 1024 * 1024, "RFC 6120 §13.12 requires at least 10000"),
  max_depth: int(8, 1024),
  ping_interval: int(0, 86400, "seconds; 0 disables pings"),
  ping_timeout: int(1, 3600),
  auth_timeout: int(1, 3600),
  max_connections: int(1, 10_000_000),
  max_resources: int(1, 1000),
  sm_resume_timeout: int(0, 86400, "seconds; 0 disables stream resumption"),
  sm_max_unacked: int(10, 1_000_000),
  csi_max_buffer: int(1, 100_000),
};

const tls: Fields<TlsConfig> = { cert: { type: "string", path: true }, key: { type: "string", path: true } };

const auth: Fields<AuthConfig> = {
  // RFC 7677 §4: at least 4096 iterations.
  scram_iterations: int(4096, 10_000_000, "RFC 7677 requires at least 4096"),
  max_failures_per_connection: int(1, 1000),
  max_failures_per_ip: int(1, 1_000_000),
  failure_window: int(1, 86400),
  allow_plain: bool,
};

const http: Fields<HttpConfig> = {
  interfaces: strings,
  port,
  tls_port: port,
  external_url: str,
  trusted_proxies: strings,
  status_allow: strings,
  bosh_max_wait: int(1, 3600, "seconds"),
  bosh_inactivity: int(1, 86400, "seconds"),
  bosh_polling: int(0, 3600, "seconds"),
};

const storage: Fields<StorageConfig> = {
  driver: { type: "enum", values: ["sqlite"] },
  sqlite_file: str,
};

const component: Fields<ComponentConfig> = { secret: str };

const componentListener: Fields<ComponentListenerConfig> = { interfaces: strings, port };

const contact: Fields<ContactConfig> = {
  abuse: strings,
  admin: strings,
  feedback: strings,
  sales: strings,
  security: strings,
  support: strings,
};

const limits: Fields<LimitsConfig> = { offline_max_per_user: int(0, 1_000_000, "0 disables offline storage") };

const archive: Fields<ArchiveConfig> = {
  retention_days: int(0, 36_500, "0 keeps archived messages forever"),
  max_page_size: int(1, 10_000),
  default_policy: { type: "enum", values: ["always", "roster", "never"] },
};

const push: Fields<PushConfig> = { include_sender: bool, include_body: bool };

const registration: Fields<RegistrationConfig> = {
  open: bool,
  allow_with_invite: bool,
  max_per_ip: int(0, 1_000_000, "accounts per IP address per hour; 0 disables the limit"),
};

const invites: Fields<InvitesConfig> = { default_expiry: str, allow_user_invites: bool };

const turn: Fields<TurnConfig> = {
  secret: str,
  host: str,
  port: int(1, 65535),
  tls_port: int(-1, 65535, "-1: no TURN over TLS"),
  transports: strings,
  ttl: int(60, 30 * 86400, "seconds"),
  stun: strings,
};

const muc: Fields<MucConfig> = {
  domain_prefix: str,
  name: str,
  room_creation: { type: "enum", values: ["anyone", "local", "admins"] },
  max_occupants: int(1, 1_000_000),
  max_history: int(0, 10_000),
  default_history: int(0, 10_000, "at most max_history is used"),
  default_persistent: bool,
  default_public: bool,
  message_rate: int(0, 1_000_000, "0 disables the limit"),
  message_burst: int(1, 1_000_000),
};

const upload: Fields<UploadConfig> = {
  enabled: bool,
  domain_prefix: str,
  max_file_size: int(1, Number.MAX_SAFE_INTEGER, "bytes"),
  quota_per_user: int(0, Number.MAX_SAFE_INTEGER, "bytes; 0 disables the quota"),
  retention_days: int(0, 36_500, "0 keeps files forever"),
  allowed_types: strings,
};

const web: Fields<WebConfig> = { invite_page: bool, invite_registration: bool, admin_page: bool };

/** The schema of the whole configuration file. */
export const schema: Fields<HearthConfig> = {
  hosts: strings,
  data_dir: { type: "string", path: true },
  admins: strings,
  log: section(log),
  c2s: section(c2s),
  tls: section(tls),
  auth: section(auth),
  http: section(http),
  storage: section(storage),
  components: { type: "map", entry: component as Fields<object> },
  component_listener: section(componentListener),
  contact: section(contact),
  disabled_modules: strings,
  limits: section(limits),
  archive: section(archive),
  push: section(push),
  registration: section(registration),
  invites: section(invites),
  turn: section(turn),
  muc: section(muc),
  upload: section(upload),
  web: section(web),
};

/** Human name of a field's type, for error messages. */
export function describeField(field: Field): string {
  switch (field.type) {
    case "string":
      return "a string";
    case "int":
      return `an integer from ${field.min} to ${field.max}`;
    case "bool":
      return "true or false";
    case "strings":
      return "an array of strings";
    case "enum":
      return `one of ${field.values.map((v) => `"${v}"`).join(", ")}`;
    case "section":
    case "map":
      return "a table";
  }
}
