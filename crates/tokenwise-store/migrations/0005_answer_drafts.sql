-- An answer while it streams: its text so far, rewritten every fraction of a second, so a
-- process that is killed (kill -9, power cut, crash) loses at most the last moment of it. The
-- finished answer goes to `messages` and its draft is deleted in the same transaction; a draft
-- whose process is gone is turned into a stopped answer on the next start (and a cloud draft's
-- reservation settled from what had streamed).
CREATE TABLE answer_drafts (
    message_id      TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    content         TEXT NOT NULL,
    -- The process writing it (a live owner's draft is never recovered).
    owner_pid       INTEGER NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    -- The routing badge, as for messages.
    route_tier_id     TEXT,
    route_tier        TEXT,
    route_kind        TEXT,
    route_model_name  TEXT,
    route_explanation TEXT,
    route_estimated_micros INTEGER,
    route_actual_micros    INTEGER, -- always NULL: the cost is known once settled
    -- A cloud answer: the model, the ledger reservation (request id = message_id) and what the
    -- call costs per token, so the next start can settle a killed call from what streamed.
    model                 TEXT,
    tokens_in             INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out            INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    input_micros_per_mtok  INTEGER NOT NULL DEFAULT 0 CHECK (input_micros_per_mtok >= 0),
    output_micros_per_mtok INTEGER NOT NULL DEFAULT 0 CHECK (output_micros_per_mtok >= 0),
    charged               INTEGER NOT NULL DEFAULT 0 CHECK (charged IN (0, 1))
) WITHOUT ROWID;
