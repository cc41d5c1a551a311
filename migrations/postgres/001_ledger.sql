-- The ledger on PostgreSQL (15+), shared by any number of Tollgate instances (SPEC §10).
-- Money is integer nano-dollars (1e-9 USD); times are ms since the epoch (UTC).
CREATE TABLE requests (
  id                    BIGSERIAL PRIMARY KEY,
  request_id            TEXT    NOT NULL UNIQUE,      -- one record per request, whoever writes it
  ts                    BIGINT  NOT NULL,
  team                  TEXT    NOT NULL,
  key_id                TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  model                 TEXT    NOT NULL,
  endpoint              TEXT    NOT NULL,
  status                INTEGER NOT NULL,
  stream                BOOLEAN NOT NULL,
  latency_ms            INTEGER NOT NULL,
  input_tokens          BIGINT  NOT NULL,
  cached_input_tokens   BIGINT  NOT NULL,
  cache_write_tokens    BIGINT  NOT NULL,
  cache_write_1h_tokens BIGINT  NOT NULL,
  output_tokens         BIGINT  NOT NULL,
  reasoning_tokens      BIGINT  NOT NULL,
  audio_input_tokens    BIGINT  NOT NULL DEFAULT 0,
  audio_output_tokens   BIGINT  NOT NULL DEFAULT 0,
  cost_nano             BIGINT  NOT NULL,
  estimated             BOOLEAN NOT NULL,
  unpriced              BOOLEAN NOT NULL,
  rates                 TEXT,
  price_source          TEXT,
  upstream_request_id   TEXT
);
CREATE INDEX requests_ts ON requests (ts, id);
CREATE INDEX requests_team_ts ON requests (team, ts, id);

-- Worst-case holds of requests in flight. Each names the instance that holds it and carries a
-- lease that instance renews; a hold whose lease ran out is settled at its worst case by another.
CREATE TABLE reservations (
  id              TEXT    PRIMARY KEY,
  ts              BIGINT  NOT NULL,
  team            TEXT    NOT NULL,
  key_id          TEXT    NOT NULL,
  provider        TEXT    NOT NULL,
  model           TEXT    NOT NULL,
  endpoint        TEXT    NOT NULL,
  stream          BOOLEAN NOT NULL,
  worst_case_nano BIGINT  NOT NULL,
  input_tokens    BIGINT  NOT NULL,
  output_tokens   BIGINT  NOT NULL,
  rates           TEXT,
  price_source    TEXT,
  unpriced        BOOLEAN NOT NULL,
  instance        TEXT    NOT NULL,
  lease_until     TIMESTAMPTZ NOT NULL
);
CREATE INDEX reservations_lease ON reservations (lease_until);
CREATE INDEX reservations_instance ON reservations (instance);

-- Admission's truth, one row a team: what its requests in flight hold. Admission and settlement
-- lock this row first, so a team's checks and holds happen one at a time across all instances.
CREATE TABLE team_holds (
  team          TEXT   PRIMARY KEY,
  reserved_nano BIGINT NOT NULL DEFAULT 0
);

-- Settled spend per team and calendar window (hour, day, week, month, total), created from the
-- requests when first needed and kept up to date by every settlement under the team's lock.
CREATE TABLE window_spend (
  team         TEXT   NOT NULL,
  kind         TEXT   NOT NULL,
  window_start BIGINT NOT NULL,
  spent_nano   BIGINT NOT NULL,
  PRIMARY KEY (team, kind, window_start)
);

CREATE TABLE refusals (
  id              BIGSERIAL PRIMARY KEY,
  ts              BIGINT NOT NULL,
  team            TEXT   NOT NULL,
  key_id          TEXT   NOT NULL,
  provider        TEXT   NOT NULL,
  model           TEXT   NOT NULL,
  window_kind     TEXT   NOT NULL,
  worst_case_nano BIGINT NOT NULL
);
CREATE INDEX refusals_ts ON refusals (ts);
CREATE INDEX refusals_team_ts ON refusals (team, ts);

-- Budget alerts: each event once per team, budget, window start and threshold, whichever
-- instance sees it first; deliveries are claimed by one sender at a time.
CREATE TABLE alert_events (
  id           BIGSERIAL PRIMARY KEY,
  event        TEXT   NOT NULL,
  team         TEXT   NOT NULL,
  budget       TEXT   NOT NULL,                -- the budget's id in its team (its window, or month#2)
  window_start BIGINT NOT NULL,
  threshold    DOUBLE PRECISION NOT NULL,
  payload      TEXT   NOT NULL,
  created_at   BIGINT NOT NULL,
  UNIQUE (event, team, budget, window_start, threshold)
);

CREATE TABLE alert_deliveries (
  id              BIGSERIAL PRIMARY KEY,
  event_id        BIGINT  NOT NULL REFERENCES alert_events (id),
  url             TEXT    NOT NULL,
  format          TEXT    NOT NULL,
  state           TEXT    NOT NULL,             -- pending | delivered | failed
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  claimed_until   BIGINT,                       -- a sender holds it until then
  last_error      TEXT,
  delivered_at    BIGINT,
  UNIQUE (event_id, url)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);

CREATE TABLE alert_attempts (
  id          BIGSERIAL PRIMARY KEY,
  delivery_id BIGINT  NOT NULL REFERENCES alert_deliveries (id),
  at          BIGINT  NOT NULL,
  http_status INTEGER,
  error       TEXT,
  ok          BOOLEAN NOT NULL
);
