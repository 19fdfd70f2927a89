-- A person's routing choices ("Not good enough: ask a cloud tier", "A local answer would do"):
-- the prompt's task cues and the shipped classifier's scores, never the prompt's text. The
-- correction layer (tokenwise-classifier, correction.rs) is rebuilt from these rows. At most
-- a fixed number are kept (the oldest go first, in the same transaction as the insert).
CREATE TABLE routing_choices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at_ms INTEGER NOT NULL,
    -- The tier the person wanted: 'simple', 'medium' or 'complex'.
    wanted        TEXT NOT NULL CHECK (wanted IN ('simple', 'medium', 'complex')),
    -- The tier the shipped classifier gave.
    shipped       TEXT NOT NULL CHECK (shipped IN ('simple', 'medium', 'complex')),
    -- Space-separated numbers: the correction features and the three calibrated scores.
    features      TEXT NOT NULL,
    scores        TEXT NOT NULL
);
