-- Alerts people act on: what the dashboard needs to word an alert from its fields, a snooze per
-- device, and indexes for listing alerts (and the incidents they form) newest first by their hour.

-- A peak alert's reading: the end of its interval and the interval's length. Overconsumption
-- alerts are about the whole hour and leave both empty.
ALTER TABLE alerts
    ADD COLUMN reading_at timestamptz,
    ADD COLUMN interval_s integer,
    -- Raised while its device was snoozed: stored acknowledged (at the moment it was raised) and
    -- never pushed live, so it is kept but counts as nothing to act on.
    ADD COLUMN snoozed boolean NOT NULL DEFAULT false;

-- Until this instant, the device's alerts are recorded snoozed (see above). NULL: not snoozed.
ALTER TABLE devices ADD COLUMN snoozed_until timestamptz;

-- Existing peak alerts: the reading of the highest average power in their hour, as the monitors
-- chose it, where that reading is still stored.
UPDATE alerts a SET (reading_at, interval_s) = (
    SELECT r.ts, r.interval_s FROM readings r
    WHERE r.device_id = a.device_id AND r.ts >= a.hour AND r.ts < a.hour + interval '1 hour'
    ORDER BY r.kwh / r.interval_s DESC, r.ts
    LIMIT 1)
WHERE a.kind = 'peak';

-- Newest first by the hour an alert is about, per user (a customer's list) and per device.
CREATE INDEX alerts_user_hour_idx ON alerts (user_id, hour DESC);
CREATE INDEX alerts_device_hour_idx ON alerts (device_id, hour DESC);
-- Open alerts: the badge's and bulk acknowledgement's rows.
CREATE INDEX alerts_open_idx ON alerts (user_id, hour DESC) WHERE acknowledged_at IS NULL;
