-- What a cloud answer was estimated to cost when the user confirmed it, and what it actually
-- cost (settled from the provider's figures), in micro-dollars. NULL for local answers, user
-- messages and older rows.
ALTER TABLE messages ADD COLUMN route_estimated_micros INTEGER;
ALTER TABLE messages ADD COLUMN route_actual_micros    INTEGER;
