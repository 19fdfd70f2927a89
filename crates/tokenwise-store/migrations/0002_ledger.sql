-- The spend ledger: one row per request, local or cloud, and the threshold alerts already raised.
-- Money is integer micro-dollars (1e-6 USD); times are milliseconds since the Unix epoch (UTC).
--
-- A cloud request goes 'reserved' -> 'settled' (actual cost) or 'released' (failed, cost 0); a
-- reservation whose expires_at_ms has passed is marked 'expired' and counts for nothing until it
-- is settled after all. A local answer is written once as 'local' (cost 0, saved_micros = what
-- the frontier tier would have cost).
--
-- conversation_id is deliberately not a foreign key: deleting a chat must never delete what it
-- cost.
CREATE TABLE ledger (
    request_id      TEXT PRIMARY KEY NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    conversation_id TEXT,
    user_id         TEXT NOT NULL,
    team_id         TEXT,
    project_id      TEXT,
    tier            TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    tokens_in       INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out      INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    cost_micros     INTEGER NOT NULL DEFAULT 0 CHECK (cost_micros >= 0),
    estimate_micros INTEGER NOT NULL DEFAULT 0 CHECK (estimate_micros >= 0),
    saved_micros    INTEGER NOT NULL DEFAULT 0 CHECK (saved_micros >= 0),
    status          TEXT NOT NULL
                    CHECK (status IN ('reserved', 'settled', 'released', 'expired', 'local')),
    reserved_micros INTEGER NOT NULL DEFAULT 0 CHECK (reserved_micros >= 0),
    expires_at_ms   INTEGER,
    settled_at_ms   INTEGER
) WITHOUT ROWID;

-- Window sums per scope (the covering columns keep them off the table).
CREATE INDEX ledger_by_user ON ledger (user_id, created_at_ms, status, cost_micros, reserved_micros, expires_at_ms);
CREATE INDEX ledger_by_team ON ledger (team_id, created_at_ms, status, cost_micros, reserved_micros, expires_at_ms)
    WHERE team_id IS NOT NULL;
CREATE INDEX ledger_by_project ON ledger (project_id, created_at_ms, status, cost_micros, reserved_micros, expires_at_ms)
    WHERE project_id IS NOT NULL;
-- Unscoped reports (spend view, `tokenwise usage`).
CREATE INDEX ledger_by_time ON ledger (created_at_ms);
-- Conversation totals.
CREATE INDEX ledger_by_conversation ON ledger (conversation_id, created_at_ms)
    WHERE conversation_id IS NOT NULL;
-- The expiry sweep at every reservation touches only live reservations.
CREATE INDEX ledger_live_reservations ON ledger (expires_at_ms) WHERE status = 'reserved';

-- A threshold alert is raised once per scope, window and threshold, also across restarts.
CREATE TABLE alerts_sent (
    scope_kind      TEXT NOT NULL CHECK (scope_kind IN ('user', 'team', 'project')),
    scope_id        TEXT NOT NULL,
    window_kind     TEXT NOT NULL,
    window_start_ms INTEGER NOT NULL,
    threshold_pct   INTEGER NOT NULL CHECK (threshold_pct >= 0),
    sent_at_ms      INTEGER NOT NULL,
    PRIMARY KEY (scope_kind, scope_id, window_kind, window_start_ms, threshold_pct)
) WITHOUT ROWID;
