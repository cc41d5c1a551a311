-- Budget alerts: each event at most once per team, budget window, window start and threshold,
-- across restarts; deliveries go out from this outbox with retries.
CREATE TABLE alert_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  event        TEXT    NOT NULL,                  -- budget.threshold | budget.exhausted
  team         TEXT    NOT NULL,
  window       TEXT    NOT NULL,
  window_start INTEGER NOT NULL,
  threshold    REAL    NOT NULL,
  payload      TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (event, team, window, window_start, threshold)
);

CREATE TABLE alert_deliveries (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        INTEGER NOT NULL REFERENCES alert_events (id),
  url             TEXT    NOT NULL,
  format          TEXT    NOT NULL,
  state           TEXT    NOT NULL,               -- pending | delivered | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  delivered_at    INTEGER,
  UNIQUE (event_id, url)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);

CREATE TABLE alert_attempts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id INTEGER NOT NULL REFERENCES alert_deliveries (id),
  at          INTEGER NOT NULL,
  http_status INTEGER,
  error       TEXT,
  ok          INTEGER NOT NULL
);
