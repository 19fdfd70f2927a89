-- The company quota server's schema. One file for SQLite and PostgreSQL: portable types only
-- (TEXT, BIGINT; booleans as 0/1), ids made by people or clients, money in integer
-- micro-dollars, times in milliseconds since the Unix epoch (UTC).

CREATE TABLE teams (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    -- JSON array of catalog tier ids the team may use; NULL: every tier of the catalog.
    allowed_tiers TEXT,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- A user belongs to one team and may charge several projects.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    team_id       TEXT NOT NULL REFERENCES teams (id),
    name          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE user_projects (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id)
);

-- One budget per scope and window kind, aligned to its own time zone's calendar.
CREATE TABLE budgets (
    scope_kind   TEXT NOT NULL CHECK (scope_kind IN ('user', 'team', 'project')),
    scope_id     TEXT NOT NULL,
    window_kind  TEXT NOT NULL CHECK (window_kind IN ('day', 'week', 'month')),
    limit_micros BIGINT NOT NULL CHECK (limit_micros >= 0),
    hard         BIGINT NOT NULL CHECK (hard IN (0, 1)),
    -- JSON array of alert percentages, e.g. [50,80,100].
    thresholds   TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    week_start   TEXT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id, window_kind)
);

-- One-time enrollment codes (only their SHA-256 is kept).
CREATE TABLE enrollment_codes (
    code_hash     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT
);

-- Devices and their bearer tokens (only the SHA-256 is kept); several per user, revocable.
CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms  BIGINT,
    revoked_at_ms BIGINT
);

-- The tier catalog and prices every client uses (TOML, the app's own format); one row.
CREATE TABLE catalog (
    id            BIGINT PRIMARY KEY CHECK (id = 1),
    toml          TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- One row per scope that has been charged: reservations lock the rows of their scopes (in a
-- fixed order) so that, on PostgreSQL with several server instances, two reservations against
-- one scope never read its sums at the same time.
CREATE TABLE scope_locks (
    scope_kind TEXT NOT NULL,
    scope_id   TEXT NOT NULL,
    PRIMARY KEY (scope_kind, scope_id)
);

-- Every charge: a cloud reservation (reserved -> settled | released | expired), or a usage
-- record a client reported (recorded: a local answer with what it saved, or a cloud call).
-- The id is the client's, so a retried request is recognised and counted once.
CREATE TABLE charges (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    team_id         TEXT NOT NULL,
    project_id      TEXT,
    device_id       TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('cloud', 'local')),
    status          TEXT NOT NULL
                    CHECK (status IN ('reserved', 'settled', 'released', 'expired', 'recorded')),
    tier            TEXT NOT NULL,
    model           TEXT NOT NULL,
    tokens_in       BIGINT NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
    tokens_out      BIGINT NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
    reserved_micros BIGINT NOT NULL DEFAULT 0 CHECK (reserved_micros >= 0),
    cost_micros     BIGINT NOT NULL DEFAULT 0 CHECK (cost_micros >= 0),
    saved_micros    BIGINT NOT NULL DEFAULT 0 CHECK (saved_micros >= 0),
    created_at_ms   BIGINT NOT NULL,
    expires_at_ms   BIGINT,
    settled_at_ms   BIGINT
);

CREATE INDEX charges_by_user ON charges (user_id, created_at_ms);
CREATE INDEX charges_by_team ON charges (team_id, created_at_ms);
CREATE INDEX charges_by_project ON charges (project_id, created_at_ms);
CREATE INDEX charges_by_time ON charges (created_at_ms);
CREATE INDEX charges_live ON charges (status, expires_at_ms);
