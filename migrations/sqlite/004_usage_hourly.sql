-- Usage by the hour (SPEC §7 /usage, /metrics): the sums of `requests` per hour, team, key,
-- provider, model and status, kept by a trigger in the same transaction as each insert, so a
-- month's report reads a few thousand rows, not every request. Backfilled from the ledger.
CREATE TABLE usage_hourly (
  hour                  INTEGER NOT NULL,            -- the hour's start, ms since epoch (UTC)
  team                  TEXT    NOT NULL,
  key_id                TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  model                 TEXT    NOT NULL,
  status                INTEGER NOT NULL,
  requests              INTEGER NOT NULL,
  input_tokens          INTEGER NOT NULL,
  cached_input_tokens   INTEGER NOT NULL,
  cache_write_tokens    INTEGER NOT NULL,
  cache_write_1h_tokens INTEGER NOT NULL,
  output_tokens         INTEGER NOT NULL,
  reasoning_tokens      INTEGER NOT NULL,
  audio_input_tokens    INTEGER NOT NULL,
  audio_output_tokens   INTEGER NOT NULL,
  cost_nano             INTEGER NOT NULL,
  PRIMARY KEY (hour, team, key_id, provider, model, status)
) WITHOUT ROWID;

INSERT INTO usage_hourly
SELECT ts - ts % 3600000, team, key_id, provider, model, status, COUNT(*), SUM(input_tokens), SUM(cached_input_tokens),
  SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(audio_input_tokens),
  SUM(audio_output_tokens), SUM(cost_nano)
FROM requests GROUP BY 1, 2, 3, 4, 5, 6;

CREATE TRIGGER requests_usage_hourly AFTER INSERT ON requests BEGIN
  INSERT INTO usage_hourly VALUES (NEW.ts - NEW.ts % 3600000, NEW.team, NEW.key_id, NEW.provider, NEW.model, NEW.status, 1,
    NEW.input_tokens, NEW.cached_input_tokens, NEW.cache_write_tokens, NEW.cache_write_1h_tokens, NEW.output_tokens,
    NEW.reasoning_tokens, NEW.audio_input_tokens, NEW.audio_output_tokens, NEW.cost_nano)
  ON CONFLICT (hour, team, key_id, provider, model, status) DO UPDATE SET
    requests = requests + 1,
    input_tokens = input_tokens + excluded.input_tokens,
    cached_input_tokens = cached_input_tokens + excluded.cached_input_tokens,
    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
    cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
    audio_input_tokens = audio_input_tokens + excluded.audio_input_tokens,
    audio_output_tokens = audio_output_tokens + excluded.audio_output_tokens,
    cost_nano = cost_nano + excluded.cost_nano;
END;
