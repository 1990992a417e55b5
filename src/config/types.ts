/**
 * The resolved configuration. Keys match the TOML file (`hearth.toml`) one to one, so the documented
 * file format and this type cannot drift apart. Every key has a default (see defaults.ts).
 */
export interface HearthConfig {
  /** Virtual hosts served. The first is the primary one. DNS names, bare hostnames and IP literals work. */
  hosts: string[];
  /** Directory for the SQLite database, certificates and uploads. */
  data_dir: string;
  /** Bare JIDs of server administrators (ad-hoc admin commands, admin page). */
  admins: string[];
  log: LogConfig;
  c2s: C2sConfig;
  tls: TlsConfig;
  auth: AuthConfig;
  http: HttpConfig;
  storage: StorageConfig;
  /** External components (XEP-0114), keyed by their domain, e.g. `gateway.localhost`. */
  components: Record<string, ComponentConfig>;
  component_listener: ComponentListenerConfig;
  /** XEP-0128/XEP-0157 contact addresses advertised in the server's disco#info. */
  contact: ContactConfig;
  /** Modules to turn off by name (all are on by default). */
  disabled_modules: string[];
  limits: LimitsConfig;
  /** Message archives (XEP-0313): retention, page size, default archiving policy. */
  archive: ArchiveConfig;
  /** Push notifications (XEP-0357): what the summary sent to app servers reveals. */
  push: PushConfig;
  /** Account creation by clients (XEP-0077 in-band registration): closed by default. */
  registration: RegistrationConfig;
  /** Invitations (`hearth invite`, XEP-0401): how long they last, who may create them. */
  invites: InvitesConfig;
  /** STUN/TURN servers offered to clients for calls (XEP-0215), with TURN REST credentials. */
  turn: TurnConfig;
  /** Multi-User Chat (XEP-0045): the group chat service of each host. */
  muc: MucConfig;
  /** HTTP File Upload (XEP-0363): the upload service of each host. */
  upload: UploadConfig;
  /** The built-in web pages: invite landing page and admin page. */
  web: WebConfig;
}

export interface LogConfig {
  level: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  /** `pretty` for humans on a terminal, `json` for log collectors. */
  format: "pretty" | "json";
}

export interface C2sConfig {
  /** Interface addresses to listen on; `::` (all, dual-stack) by default. */
  interfaces: string[];
  /** STARTTLS port; 0 picks a free port (tests). -1 disables the listener. */
  port: number;
  /** Direct TLS port (XEP-0368); 0 picks a free port, -1 disables it. */
  tls_port: number;
  /** Require TLS before authentication. Turning this off is for trusted networks only. */
  require_encryption: boolean;
  /** Largest stanza accepted, in bytes (RFC 6120 §13.12 says at least 10000). */
  stanza_size_limit: number;
  /** Deepest element nesting accepted inside a stanza. */
  max_depth: number;
  /** Seconds of silence after which the server pings a client (XEP-0199). */
  ping_interval: number;
  /** Seconds to wait for the ping reply before closing the connection. */
  ping_timeout: number;
  /** Seconds a connection may take to authenticate before it is closed. */
  auth_timeout: number;
  /** Maximum number of simultaneous c2s connections (all states). */
  max_connections: number;
  /** Maximum resources bound at once per account. */
  max_resources: number;
  /** Seconds a session whose connection was lost stays resumable (XEP-0198); 0 disables resumption. */
  sm_resume_timeout: number;
  /** Unacknowledged stanzas kept per session (XEP-0198); a session that exceeds it ends (nothing is lost). */
  sm_max_unacked: number;
  /** Stanzas held back per inactive session (XEP-0352) before they are all sent anyway. */
  csi_max_buffer: number;
}

export interface TlsConfig {
  /** PEM certificate chain path; empty means generate/reuse a self-signed one in the data dir. */
  cert: string;
  /** PEM private key path. */
  key: string;
}

export interface AuthConfig {
  /** PBKDF2 iterations for newly stored SCRAM credentials (RFC 7677 recommends at least 4096). */
  scram_iterations: number;
  /** Failed SASL attempts allowed on one connection before it is closed. */
  max_failures_per_connection: number;
  /** Failed attempts per remote IP within `failure_window` seconds before further attempts are refused. */
  max_failures_per_ip: number;
  failure_window: number;
  /** Offer SASL PLAIN (only ever over TLS). */
  allow_plain: boolean;
}

export interface HttpConfig {
  interfaces: string[];
  /** Plain HTTP port; 0 picks a free port, -1 disables it. */
  port: number;
  /** HTTPS port; 0 picks a free port, -1 disables it. */
  tls_port: number;
  /** Public base URL if behind a reverse proxy, e.g. `https://chat.example.org`. Empty: derived. */
  external_url: string;
  /** Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For/-Proto/-Host headers are believed. */
  trusted_proxies: string[];
  /** Client addresses or CIDR networks allowed to read `/status` and `/metrics`. */
  status_allow: string[];
  /** Longest time a BOSH request is held, in seconds (XEP-0124 `wait`); clients asking for more get this. */
  bosh_max_wait: number;
  /** Seconds a BOSH session survives with no request open (XEP-0124 `inactivity`). */
  bosh_inactivity: number;
  /** Shortest allowed interval between empty BOSH polls, in seconds (XEP-0124 `polling`). */
  bosh_polling: number;
}

export interface StorageConfig {
  /** `sqlite` (embedded, default); `postgres` comes later. */
  driver: "sqlite";
  /** SQLite file name inside data_dir. */
  sqlite_file: string;
}

export interface ComponentConfig {
  /** Shared secret for the XEP-0114 handshake. */
  secret: string;
}

export interface ComponentListenerConfig {
  interfaces: string[];
  /** Port for external components; 0 picks a free port, -1 disables it. */
  port: number;
}

export interface ContactConfig {
  abuse: string[];
  admin: string[];
  feedback: string[];
  sales: string[];
  security: string[];
  support: string[];
}

export interface LimitsConfig {
  /** Offline messages kept per user; further ones are bounced with resource-constraint. */
  offline_max_per_user: number;
}

export interface ArchiveConfig {
  /** Days archived messages are kept (users' and rooms' archives); 0 keeps them forever. */
  retention_days: number;
  /** Most results one archive query returns (XEP-0059 page size cap); also the page size when the client gives none. */
  max_page_size: number;
  /** What is archived for users who never set preferences (XEP-0441 `default`): always, roster (contacts only) or never. */
  default_policy: "always" | "roster" | "never";
}

export interface PushConfig {
  /** Put the sender's JID in push notifications (`last-message-sender`). */
  include_sender: boolean;
  /** Put the message text in push notifications (`last-message-body`); off by default for privacy. */
  include_body: boolean;
}

export interface MucConfig {
  /** The chat service of host `example.org` is `<domain_prefix>.example.org`. */
  domain_prefix: string;
  /** Name of the service in service discovery. */
  name: string;
  /** Who may create rooms: `anyone`, `local` users of this server's hosts, or only `admins`. */
  room_creation: "anyone" | "local" | "admins";
  /** Most occupants of a room; owners may configure less (owners and admins may still enter a full room). */
  max_occupants: number;
  /** Most messages of history a room may keep for new occupants. */
  max_history: number;
  /** History length of a new room. */
  default_history: number;
  /** New rooms survive being empty (owners may change it). */
  default_persistent: boolean;
  /** New rooms are listed in the public directory (owners may change it). */
  default_public: boolean;
  /** Messages, presence changes and invitations per second one occupant may send, on average; 0: no limit. */
  message_rate: number;
  /** How many of those may come at once. */
  message_burst: number;
}

export interface UploadConfig {
  /** Offer an upload service (`<domain_prefix>.<host>`) on every host that is not an IP address. */
  enabled: boolean;
  /** The upload service of host `example.org` is `<domain_prefix>.example.org`. */
  domain_prefix: string;
  /** Largest file accepted, in bytes (advertised in service discovery). */
  max_file_size: number;
  /** Bytes one account may have stored at once; 0: no quota. */
  quota_per_user: number;
  /** Days an uploaded file is kept; 0 keeps files forever. */
  retention_days: number;
  /** Content types accepted (`image/png`, `image/*`); empty accepts any. */
  allowed_types: string[];
}

export interface WebConfig {
  /** Serve the invite landing page at `/invite/<token>`. */
  invite_page: boolean;
  /** Let people create their account on the invite page (the invite is consumed as by XEP-0401). */
  invite_registration: boolean;
  /** Serve the status and admin page at `/admin` (login with an account listed in `admins`). */
  admin_page: boolean;
}

export interface RegistrationConfig {
  /** Anyone who can reach the server may create an account from their client (XEP-0077). */
  open: boolean;
  /** An invitation lets its holder create an account even while registration is closed (XEP-0445). */
  allow_with_invite: boolean;
  /** Accounts one IP address may create per hour through open registration; 0: no limit. */
  max_per_ip: number;
}

export interface InvitesConfig {
  /** How long a new invitation is valid unless its creator says otherwise: `7d`, `12h`, `30m`. */
  default_expiry: string;
  /** Users may create contact invitations from their client (XEP-0401 `urn:xmpp:invite#invite`). */
  allow_user_invites: boolean;
}

export interface TurnConfig {
  /** Shared secret with the TURN server (coturn `static-auth-secret`); empty: no TURN offered. */
  secret: string;
  /** Host name of the TURN server clients connect to; empty: no TURN offered. */
  host: string;
  /** TURN (and STUN) port on that host. */
  port: number;
  /** TURN over TLS ("turns") port; -1: not offered. */
  tls_port: number;
  /** Transports offered on `port`: `udp`, `tcp`. */
  transports: string[];
  /** Seconds TURN credentials stay valid. */
  ttl: number;
  /** Further STUN servers, `host` or `host:port` (the TURN host is offered as a STUN server too). */
  stun: string[];
}
