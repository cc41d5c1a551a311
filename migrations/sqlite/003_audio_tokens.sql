-- Audio tokens (SPEC §9): part of input_tokens / output_tokens, billed at their own rates.
ALTER TABLE requests ADD COLUMN audio_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN audio_output_tokens INTEGER NOT NULL DEFAULT 0;
