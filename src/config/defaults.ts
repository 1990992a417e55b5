import type { HearthConfig } from "./types.ts";

/**
 * The built-in configuration: what `npm start` runs with when there is no `hearth.toml` and no environment
 * overrides. Returns a fresh object every time so callers may mutate it.
 */
export function defaultConfig(): HearthConfig {
  return {
    hosts: ["localhost"],
    data_dir: "./data",
    admins: [],
    log: { level: "info", format: "pretty" },
    c2s: {
      interfaces: ["::"],
      port: 5222,
      tls_port: 5223,
      require_encryption: true,
      stanza_size_limit: 262144,
      // Real payloads (pubsub events carrying XHTML, data forms) stay well under 20 levels.
      max_depth: 32,
      ping_interval: 300,
      ping_timeout: 60,
      auth_timeout: 60,
      max_connections: 10000,
      max_resources: 10,
      sm_resume_timeout: 300,
      sm_max_unacked: 5000,
      csi_max_buffer: 500,
    },
    tls: { cert: "", key: "" },
    auth: {
      scram_iterations: 4096,
      max_failures_per_connection: 3,
      max_failures_per_ip: 20,
      failure_window: 300,
      allow_plain: true,
    },
    http: {
      interfaces: ["::"],
      port: 5280,
      tls_port: 5281,
      external_url: "",
      // A reverse proxy on the same machine is the usual deployment (docs/web.md).
      trusted_proxies: ["127.0.0.1", "::1"],
      status_allow: ["127.0.0.1", "::1"],
      bosh_max_wait: 60,
      bosh_inactivity: 60,
      bosh_polling: 5,
    },
    storage: { driver: "sqlite", sqlite_file: "hearth.db" },
    components: {},
    // Components authenticate with a shared secret over plain TCP (XEP-0114), so only loopback by default.
    component_listener: { interfaces: ["127.0.0.1"], port: 5347 },
    contact: { abuse: [], admin: [], feedback: [], sales: [], security: [], support: [] },
    disabled_modules: [],
    limits: { offline_max_per_user: 1000 },
    archive: { retention_days: 0, max_page_size: 250, default_policy: "always" },
    // Push services are third parties: by default they learn who wrote, not what.
    push: { include_sender: true, include_body: false },
    // Invitations instead of open sign-up: a family or small community server is not a spam target.
    registration: { open: false, allow_with_invite: true, max_per_ip: 5 },
    invites: { default_expiry: "7d", allow_user_invites: true },
    turn: { secret: "", host: "", port: 3478, tls_port: -1, transports: ["udp", "tcp"], ttl: 86400, stun: [] },
    muc: {
      domain_prefix: "conference",
      name: "Chatrooms",
      room_creation: "local",
      max_occupants: 1000,
      max_history: 100,
      default_history: 20,
      default_persistent: false,
      default_public: true,
      message_rate: 5,
      message_burst: 20,
    },
    upload: {
      enabled: true,
      domain_prefix: "upload",
      // Phone photos and short videos; larger files are better shared another way.
      max_file_size: 100 * 1024 * 1024,
      quota_per_user: 1024 * 1024 * 1024,
      retention_days: 30,
      allowed_types: [],
    },
    web: { invite_page: true, invite_registration: false, admin_page: true },
  };
}
