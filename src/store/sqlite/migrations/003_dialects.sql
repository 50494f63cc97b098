-- Fields the Anthropic Managed Agents dialect needs (and the native API may show), plus vaults.
ALTER TABLE sessions ADD COLUMN title TEXT;
ALTER TABLE sessions ADD COLUMN vault_ids TEXT NOT NULL DEFAULT '[]';  -- JSON array
ALTER TABLE sessions ADD COLUMN updated_at INTEGER;
ALTER TABLE sessions ADD COLUMN archived_at INTEGER;

ALTER TABLE environments ADD COLUMN updated_at INTEGER;
ALTER TABLE environments ADD COLUMN archived_at INTEGER;
CREATE INDEX environments_name ON environments(name);

CREATE TABLE vaults (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  display_name TEXT    NOT NULL,
  metadata     TEXT    NOT NULL DEFAULT '{}',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  archived_at  INTEGER
);

-- Credentials: the public part as JSON; secrets sealed with AES-256-GCM (never returned).
CREATE TABLE vault_credentials (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  vault_id     TEXT    NOT NULL REFERENCES vaults(id) ON DELETE CASCADE,
  display_name TEXT,
  metadata     TEXT    NOT NULL DEFAULT '{}',
  auth         TEXT    NOT NULL,  -- JSON without secret values
  sealed       BLOB,              -- nonce || ciphertext || tag of the secret JSON
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  archived_at  INTEGER
);
CREATE INDEX vault_credentials_vault ON vault_credentials(vault_id, seq);
