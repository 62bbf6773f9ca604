-- Energy as exact decimals: kWh (and the kW of a peak alert) to six places, a micro-kWh, in
-- NUMERIC, so sums and comparisons against limits are exact (see `ems_common::energy`).
--
-- Existing doubles are converted through their shortest text form, the decimal a reading was
-- written as (1.2000000000000002, a float sum of 0.4 + 0.4 + 0.4, becomes 1.200000), and
-- rounded half away from zero to six places, as the services round what they receive.
-- A non-zero text form needs `extra_float_digits` above 0 (shortest exact output).
SET LOCAL extra_float_digits = 1;

ALTER TABLE readings
    ALTER COLUMN kwh TYPE numeric(20, 6) USING round(kwh::text::numeric, 6);

ALTER TABLE hourly_consumption
    ALTER COLUMN kwh TYPE numeric(20, 6) USING round(kwh::text::numeric, 6);

ALTER TABLE alerts
    ALTER COLUMN value TYPE numeric(20, 6) USING round(value::text::numeric, 6),
    ALTER COLUMN limit_kwh TYPE numeric(20, 6) USING round(limit_kwh::text::numeric, 6);

-- A limit must stay above zero: one below a micro-kWh becomes the smallest amount stored.
ALTER TABLE devices DROP CONSTRAINT devices_max_hourly_kwh_positive;
ALTER TABLE devices
    ALTER COLUMN max_hourly_kwh TYPE numeric(20, 6)
        USING greatest(round(max_hourly_kwh::text::numeric, 6), 0.000001),
    ADD CONSTRAINT devices_max_hourly_kwh_positive CHECK (max_hourly_kwh > 0);

-- An hour's total is the sum of its readings, now exact: recomputed where every reading of the
-- hour is still there (its count matches), so rounding each old total alone leaves no drift.
UPDATE hourly_consumption h SET kwh = r.kwh
FROM (SELECT device_id, date_trunc('hour', ts, 'UTC') AS hour, sum(kwh) AS kwh, count(*) AS readings
      FROM readings GROUP BY 1, 2) AS r
WHERE h.device_id = r.device_id AND h.hour = r.hour AND h.readings = r.readings AND h.kwh <> r.kwh;
