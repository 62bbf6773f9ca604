-- Early warnings: a `forecast` alert when a device's hour is on course to go above its limit,
-- raised part-way through the hour and before any `overconsumption` alert of that hour. Its
-- `value` is the forecast total (kWh) and `reading_at` / `interval_s` the reading it was made
-- after. Owners turn it off per device.
ALTER TYPE alert_kind ADD VALUE IF NOT EXISTS 'forecast';

ALTER TABLE devices ADD COLUMN forecast_alerts boolean NOT NULL DEFAULT true;
