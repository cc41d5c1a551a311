-- Usage by the hour (SPEC §7 /usage, /metrics): the sums of `requests` per hour, team, key,
-- provider, model and status, kept by a statement trigger in the same transaction as each insert
-- (one upsert per statement, rows in key order so concurrent writers lock them in one order), so
-- a month's report reads a few thousand rows, not every request. Backfilled from the ledger.
CREATE TABLE usage_hourly (
  hour                  BIGINT  NOT NULL,            -- the hour's start, ms since epoch (UTC)
  team                  TEXT    NOT NULL,
  key_id                TEXT    NOT NULL,
  provider              TEXT    NOT NULL,
  model                 TEXT    NOT NULL,
  status                INTEGER NOT NULL,
  requests              BIGINT  NOT NULL,
  input_tokens          BIGINT  NOT NULL,
  cached_input_tokens   BIGINT  NOT NULL,
  cache_write_tokens    BIGINT  NOT NULL,
  cache_write_1h_tokens BIGINT  NOT NULL,
  output_tokens         BIGINT  NOT NULL,
  reasoning_tokens      BIGINT  NOT NULL,
  audio_input_tokens    BIGINT  NOT NULL,
  audio_output_tokens   BIGINT  NOT NULL,
  cost_nano             BIGINT  NOT NULL,
  PRIMARY KEY (hour, team, key_id, provider, model, status)
);

INSERT INTO usage_hourly
SELECT ts - ts % 3600000, team, key_id, provider, model, status, COUNT(*), SUM(input_tokens), SUM(cached_input_tokens),
  SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(audio_input_tokens),
  SUM(audio_output_tokens), SUM(cost_nano)
FROM requests GROUP BY 1, 2, 3, 4, 5, 6;

CREATE FUNCTION tollgate_usage_hourly() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_hourly
  SELECT ts - ts % 3600000, team, key_id, provider, model, status, COUNT(*), SUM(input_tokens), SUM(cached_input_tokens),
    SUM(cache_write_tokens), SUM(cache_write_1h_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(audio_input_tokens),
    SUM(audio_output_tokens), SUM(cost_nano)
  FROM inserted GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (hour, team, key_id, provider, model, status) DO UPDATE SET
    requests = usage_hourly.requests + EXCLUDED.requests,
    input_tokens = usage_hourly.input_tokens + EXCLUDED.input_tokens,
    cached_input_tokens = usage_hourly.cached_input_tokens + EXCLUDED.cached_input_tokens,
    cache_write_tokens = usage_hourly.cache_write_tokens + EXCLUDED.cache_write_tokens,
    cache_write_1h_tokens = usage_hourly.cache_write_1h_tokens + EXCLUDED.cache_write_1h_tokens,
    output_tokens = usage_hourly.output_tokens + EXCLUDED.output_tokens,
    reasoning_tokens = usage_hourly.reasoning_tokens + EXCLUDED.reasoning_tokens,
    audio_input_tokens = usage_hourly.audio_input_tokens + EXCLUDED.audio_input_tokens,
    audio_output_tokens = usage_hourly.audio_output_tokens + EXCLUDED.audio_output_tokens,
    cost_nano = usage_hourly.cost_nano + EXCLUDED.cost_nano;
  RETURN NULL;
END
$$;

CREATE TRIGGER requests_usage_hourly AFTER INSERT ON requests
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tollgate_usage_hourly();
