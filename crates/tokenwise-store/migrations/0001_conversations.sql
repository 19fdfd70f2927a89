-- Conversations and their messages. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    title         TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('complete', 'stopped', 'failed')),
    -- Generation figures; NULL for user messages.
    model                     TEXT,
    tokens_in                 INTEGER,
    tokens_out                INTEGER,
    time_to_first_token_ms    INTEGER,
    prefill_tokens_per_second REAL,
    decode_tokens_per_second  REAL,
    total_ms                  INTEGER,
    created_at_ms   INTEGER NOT NULL
);

CREATE INDEX messages_by_conversation ON messages (conversation_id, created_at_ms);
CREATE INDEX conversations_by_recency ON conversations (updated_at_ms DESC);
