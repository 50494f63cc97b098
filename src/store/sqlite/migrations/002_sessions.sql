-- Sessions, their append-only event log, and the durable queue of user messages posted while a
-- turn runs. A session's turn state is recoverable from these tables alone.
CREATE TABLE sessions (
  seq               INTEGER PRIMARY KEY AUTOINCREMENT,
  id                TEXT    NOT NULL UNIQUE,
  agent_id          TEXT    NOT NULL,
  agent_version     INTEGER NOT NULL,
  environment_id    TEXT,
  status            TEXT    NOT NULL DEFAULT 'idle'
                    CHECK (status IN ('idle', 'starting', 'running', 'failed')),
  run_id            INTEGER NOT NULL DEFAULT 0,  -- bumped when a run starts; guards stale writers
  error             TEXT,
  output            TEXT,                        -- content of the latest agent.message
  turns             INTEGER NOT NULL DEFAULT 0,
  tokens_in         INTEGER NOT NULL DEFAULT 0,
  tokens_out        INTEGER NOT NULL DEFAULT 0,
  cache_read        INTEGER NOT NULL DEFAULT 0,
  cache_write       INTEGER NOT NULL DEFAULT 0,
  cost_usd          REAL    NOT NULL DEFAULT 0,
  created_at        INTEGER NOT NULL,
  last_event_at     INTEGER,
  ephemeral         INTEGER NOT NULL DEFAULT 0,
  parent_session_id TEXT,
  vault_id          TEXT,
  next_seq          INTEGER NOT NULL DEFAULT 1,  -- seq of the next event
  metadata          TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_environment ON sessions(environment_id);
CREATE INDEX sessions_active ON sessions(status) WHERE status IN ('starting', 'running');

CREATE TABLE events (
  session_id TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,  -- dense per session, from 1
  id         TEXT    NOT NULL,  -- "evt_…"
  type       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  payload    TEXT    NOT NULL,  -- JSON object, domain::Event::payload
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_id ON events(id);

CREATE TABLE queued_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id  TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  payload     TEXT    NOT NULL,  -- {"content", "model"?, "thinking_level"?}
  enqueued_at INTEGER NOT NULL
);
CREATE INDEX queued_events_session ON queued_events(session_id, id);

-- Replies to POST /v1/sessions/:id/events remembered by Idempotency-Key (durable, so a retry
-- after a crash is still recognised). Rows older than a day are purged.
CREATE TABLE idempotency_keys (
  session_id TEXT    NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  key        TEXT    NOT NULL,
  status     INTEGER NOT NULL,
  body       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, key)
) WITHOUT ROWID;
