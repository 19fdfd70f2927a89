-- The routing badge of an answer: which catalog entry answered and why. NULL for user
-- messages and for answers saved before routing existed.
ALTER TABLE messages ADD COLUMN route_tier_id     TEXT;
ALTER TABLE messages ADD COLUMN route_tier        TEXT;
ALTER TABLE messages ADD COLUMN route_kind        TEXT;
ALTER TABLE messages ADD COLUMN route_model_name  TEXT;
ALTER TABLE messages ADD COLUMN route_explanation TEXT;
