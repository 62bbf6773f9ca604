-- Readings, hourly consumption and alerts, written by the monitors.

-- Every accepted reading, once: (device_id, ts) identifies a reading, so a redelivered or resent
-- one is skipped by the primary key instead of being counted again.
CREATE TABLE readings (
    device_id   uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    ts          timestamptz NOT NULL,
    kwh         double precision NOT NULL,
    interval_s  integer NOT NULL,
    PRIMARY KEY (device_id, ts)
);

-- Sum of a device's readings whose timestamp falls in the hour (UTC) starting at `hour`.
CREATE TABLE hourly_consumption (
    device_id  uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    hour       timestamptz NOT NULL,
    kwh        double precision NOT NULL,
    readings   integer NOT NULL,
    PRIMARY KEY (device_id, hour)
);

CREATE TYPE alert_kind AS ENUM ('overconsumption', 'peak');

-- One alert per device, hour and kind; `user_id` is the owner when it was raised.
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id        uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    user_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    kind             alert_kind NOT NULL,
    hour             timestamptz NOT NULL,
    value            double precision NOT NULL,
    limit_kwh        double precision NOT NULL,
    message          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    CONSTRAINT alerts_once_per_device_hour_kind UNIQUE (device_id, hour, kind)
);
CREATE INDEX alerts_user_idx ON alerts (user_id, id);
