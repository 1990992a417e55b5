/**
 * The schema as an ordered list of migrations. Migration N (1-based) brings the schema to version N; a
 * released migration is never edited, only followed by a new one. The PostgreSQL backend mirrors this list,
 * so the SQL sticks to what both accept (TEXT, INTEGER, BIGINT, ON CONFLICT, RETURNING); SQLite-only
 * constructs are marked `SQLite-only` with the PostgreSQL equivalent next to them.
 *
 * No foreign keys between the tables on purpose: each store owns its data and deletes it itself
 * (see `AccountStore.delete`), so a module can keep state for a user of another host or before the
 * account row exists (e.g. offline messages pushed while the account is being created).
 *
 * Ordering: usernames, contacts and keys are compared with SQLite's BINARY collation, i.e. by UTF-8
 * bytes, which is Unicode code point order. PostgreSQL must use `COLLATE "C"` on these columns to match.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, roster, offline messages, key-value documents.
  `
  CREATE TABLE accounts (
    uuid TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    -- JSON of AccountCredentials (SCRAM records only, never a password).
    credentials TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT,
    last_status TEXT,
    UNIQUE (host, username)
  );

  CREATE TABLE roster_items (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    contact TEXT NOT NULL,
    name TEXT,
    subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
    -- Booleans as 0/1 integers: SQLite has no boolean type and better-sqlite3 cannot bind JS booleans.
    ask_out INTEGER NOT NULL CHECK (ask_out IN (0, 1)),
    ask_in INTEGER NOT NULL CHECK (ask_in IN (0, 1)),
    approved INTEGER NOT NULL CHECK (approved IN (0, 1)),
    -- JSON array of group names, in the order the client gave them.
    groups TEXT NOT NULL,
    pending_in_stanza TEXT,
    PRIMARY KEY (host, username, contact)
  );

  -- One counter per user, bumped in the same transaction as every roster change (XEP-0237).
  CREATE TABLE roster_versions (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (host, username)
  );

  CREATE TABLE offline_messages (
    -- SQLite-only: AUTOINCREMENT guarantees an id is never reused, even after the newest row is deleted,
    -- so a remove() with ids from an earlier peek() can never hit a message stored since.
    -- PostgreSQL: id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    stanza TEXT NOT NULL,
    stored_at BIGINT NOT NULL
  );
  CREATE INDEX offline_messages_user ON offline_messages (host, username, id);

  CREATE TABLE kv (
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (host, username, store, key)
  );
  `,
  // 2: message archives (XEP-0313), user and room archives in one table.
  `
  CREATE TABLE archive (
    -- Arrival order. SQLite-only: AUTOINCREMENT never reuses a number, so the order of an archive never
    -- changes after pruning. PostgreSQL: seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'room')),
    owner TEXT NOT NULL,
    -- The stanza-id (XEP-0359) clients see; unique within one archive.
    id TEXT NOT NULL,
    ts BIGINT NOT NULL,
    -- The other party, split so that a bare filter uses the index: resource is '' for a bare JID.
    with_bare TEXT NOT NULL,
    with_resource TEXT NOT NULL,
    stanza TEXT NOT NULL,
    UNIQUE (host, kind, owner, id)
  );
  CREATE INDEX archive_owner ON archive (host, kind, owner, seq);
  CREATE INDEX archive_with ON archive (host, kind, owner, with_bare, seq);
  CREATE INDEX archive_ts ON archive (ts);
  `,
  // 3: pubsub nodes and items (XEP-0060 / XEP-0163 PEP), per service JID.
  `
  CREATE TABLE pubsub_nodes (
    service TEXT NOT NULL,
    node TEXT NOT NULL,
    -- JSON objects owned by the pubsub module: node configuration, affiliations, subscriptions.
    config TEXT NOT NULL,
    affiliations TEXT NOT NULL,
    subscriptions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (service, node)
  );

  CREATE TABLE pubsub_items (
    -- SQLite-only: AUTOINCREMENT so that a re-published item always gets a higher seq than every other.
    -- PostgreSQL: seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    node TEXT NOT NULL,
    item_id TEXT NOT NULL,
    publisher TEXT,
    payload TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    UNIQUE (service, node, item_id)
  );
  CREATE INDEX pubsub_items_node ON pubsub_items (service, node, seq);
  `,
  // 4: persistent Multi-User Chat rooms (XEP-0045) and their affiliation lists.
  `
  CREATE TABLE muc_rooms (
    host TEXT NOT NULL,
    name TEXT NOT NULL,
    -- JSON documents owned by the MUC module: room configuration, and other state (occupant-id key, vCard).
    config TEXT NOT NULL,
    subject TEXT NOT NULL,
    subject_by TEXT,
    subject_at BIGINT,
    created_at BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (host, name)
  );

  CREATE TABLE muc_affiliations (
    host TEXT NOT NULL,
    room TEXT NOT NULL,
    jid TEXT NOT NULL,
    affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
    nick TEXT,
    reason TEXT,
    PRIMARY KEY (host, room, jid)
  );
  CREATE INDEX muc_affiliations_jid ON muc_affiliations (host, jid);
  `,
  // 5: metadata of files received by HTTP File Upload (XEP-0363); the bytes are files under data_dir/uploads.
  `
  CREATE TABLE uploads (
    -- The slot id: random, and the file's name on disk.
    id TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    username TEXT NOT NULL,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX uploads_user ON uploads (host, username);
  CREATE INDEX uploads_created ON uploads (created_at);
  `,
  // 6: invitations (XEP-0401 / XEP-0445 / XEP-0379 tokens); roster and used_by are JSON arrays of bare JIDs.
  `
  CREATE TABLE invites (
    token TEXT NOT NULL PRIMARY KEY,
    host TEXT NOT NULL,
    creator TEXT,
    username TEXT,
    roster TEXT NOT NULL,
    allow_registration INTEGER NOT NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL,
    used_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX invites_host ON invites (host, created_at);
  CREATE INDEX invites_username ON invites (host, username);
  CREATE INDEX invites_creator ON invites (creator);
  CREATE INDEX invites_expiry ON invites (expires_at);
  `,
];

/** The schema version this build of Hearth creates and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;
