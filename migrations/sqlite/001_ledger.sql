-- The ledger: one row per forwarded request. Money is integer nano-dollars (1e-9 USD).
CREATE TABLE requests (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id          TEXT    NOT NULL UNIQUE,
  ts                  INTEGER NOT NULL,            -- request start, ms since epoch (UTC)
  team                TEXT    NOT NULL,
  key_id              TEXT    NOT NULL,            -- a digest prefix, never the key
  provider            TEXT    NOT NULL,
  model               TEXT    NOT NULL,
  endpoint            TEXT    NOT NULL,
  status              INTEGER NOT NULL,            -- provider/relay status; 0 = process died in flight
  stream              INTEGER NOT NULL,
  latency_ms          INTEGER NOT NULL,
  input_tokens        INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_tokens  INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  reasoning_tokens    INTEGER NOT NULL,
  cost_nano           INTEGER NOT NULL,
  estimated           INTEGER NOT NULL,
  unpriced            INTEGER NOT NULL,
  rates               TEXT,                        -- JSON: the USD/1M rates this row was priced at
  price_source        TEXT,
  upstream_request_id TEXT
);
CREATE INDEX requests_ts ON requests (ts, id);
CREATE INDEX requests_team_ts ON requests (team, ts, id);

-- Worst-case holds on hard-capped budgets, open while a request is in flight. A row left here by
-- a dead process is settled at its worst case at the next start.
CREATE TABLE reservations (
  id             TEXT    PRIMARY KEY,
  ts             INTEGER NOT NULL,
  team           TEXT    NOT NULL,
  key_id         TEXT    NOT NULL,
  provider       TEXT    NOT NULL,
  model          TEXT    NOT NULL,
  endpoint       TEXT    NOT NULL,
  stream         INTEGER NOT NULL,
  worst_case_nano INTEGER NOT NULL,
  input_tokens   INTEGER NOT NULL,
  output_tokens  INTEGER NOT NULL,
  rates          TEXT,
  price_source   TEXT,
  unpriced       INTEGER NOT NULL
);

-- Requests refused for budget before forwarding: not ledger rows, counted on their own.
CREATE TABLE refusals (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  ts       INTEGER NOT NULL,
  team     TEXT    NOT NULL,
  key_id   TEXT    NOT NULL,
  provider TEXT    NOT NULL,
  model    TEXT    NOT NULL,
  window   TEXT    NOT NULL,
  worst_case_nano INTEGER NOT NULL
);
CREATE INDEX refusals_ts ON refusals (ts);
