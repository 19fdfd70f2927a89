-- The link to the company's quota server (at most one row): who this device is there, and
-- the last quota snapshot it sent, kept so the meter has figures (marked with their age)
-- while the server cannot be reached. The device token is not here: it lives in the OS
-- keyring only.
CREATE TABLE company_link (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    -- 'tokenwise': a tokenwise-server (holds, outbox); 'litellm': a LiteLLM proxy whose
    -- virtual key's budget is only read (LiteLLM keeps its own books).
    kind            TEXT NOT NULL DEFAULT 'tokenwise' CHECK (kind IN ('tokenwise', 'litellm')),
    server_url      TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    connected_at_ms INTEGER NOT NULL,
    -- The last snapshot as the server sent it (JSON), and its ETag.
    snapshot_json   TEXT,
    etag            TEXT,
    -- When the server last confirmed the snapshot current.
    synced_at_ms    INTEGER,
    -- Why the last attempt to reach it failed; NULL once one succeeds.
    failure         TEXT,
    failed_at_ms    INTEGER
);

-- What the server must hear about, written before it is sent and deleted once it has
-- answered: settlements and releases of cloud reservations, usage records of local answers.
-- Each carries the id the server deduplicates on, so sending twice never counts twice.
CREATE TABLE sync_outbox (
    kind            TEXT NOT NULL CHECK (kind IN ('settle', 'release', 'usage')),
    id              TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    -- The server refused it for good (not an outage): kept, reported, not retried.
    refused         INTEGER NOT NULL DEFAULT 0 CHECK (refused IN (0, 1)),
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

CREATE INDEX sync_outbox_due ON sync_outbox (refused, next_attempt_ms);
