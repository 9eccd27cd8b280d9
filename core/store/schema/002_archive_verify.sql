-- 002: what the archiver and the replay loader need beyond 001.
--  * by_room_type_time: the archiver verifies, per (live room, type), that the
--    rows between the lowest and highest copied score number exactly what it
--    copied; with this index that count reads the index only.
--  * archived_rooms.last_ts_ms: the highest score archived (the stream's length
--    in ms), returned with every replay page.
-- Written with IF NOT EXISTS so that a half-applied run can be applied again.
ALTER TABLE archived_messages ADD KEY IF NOT EXISTS by_room_type_time (live_room, type, ts_ms);
ALTER TABLE archived_rooms ADD COLUMN IF NOT EXISTS last_ts_ms BIGINT NOT NULL DEFAULT 0 AFTER messages;
