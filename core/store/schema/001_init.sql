-- 001: the replay archive. One row per message of a finished live room;
-- the primary key on the message id makes re-running an archive idempotent.
CREATE TABLE IF NOT EXISTS archived_messages (
  msg_id      VARCHAR(64)  NOT NULL,
  live_room   VARCHAR(64)  NOT NULL,
  type        VARCHAR(16)  NOT NULL,
  ts_ms       BIGINT       NOT NULL,  -- stream-relative score, as served live
  uid         VARCHAR(64)  NOT NULL,
  payload     MEDIUMBLOB   NOT NULL,  -- the message JSON byte-for-byte as served
  PRIMARY KEY (msg_id),
  KEY by_room_time (live_room, ts_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS archived_rooms (
  live_room    VARCHAR(64) NOT NULL,
  likes        BIGINT      NOT NULL,
  viewers      BIGINT      NOT NULL,
  messages     BIGINT      NOT NULL,
  archived_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (live_room)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
