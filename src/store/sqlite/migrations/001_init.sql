-- Agents: the current state of each agent; every version is kept in agent_versions.
-- `seq` orders by creation and is the stable cursor for pagination.
CREATE TABLE agents (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  version     INTEGER NOT NULL,
  spec        TEXT    NOT NULL,  -- JSON, domain::AgentSpecToStorage
  created_at  INTEGER NOT NULL,  -- ms since epoch
  updated_at  INTEGER NOT NULL,
  archived_at INTEGER
);

CREATE TABLE agent_versions (
  agent_id   TEXT    NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  spec       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, version)
) WITHOUT ROWID;

CREATE TABLE environments (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  id         TEXT    NOT NULL UNIQUE,
  name       TEXT    NOT NULL,
  spec       TEXT    NOT NULL,  -- JSON, domain::EnvironmentSpecToStorage
  created_at INTEGER NOT NULL
);

CREATE TABLE audit_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ts         INTEGER NOT NULL,
  request_id TEXT,
  actor      TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  target     TEXT,
  outcome    TEXT    NOT NULL,
  metadata   TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_ts ON audit_events(ts);
CREATE INDEX audit_events_target_ts ON audit_events(target, ts);
CREATE INDEX audit_events_action_ts ON audit_events(action, ts);
