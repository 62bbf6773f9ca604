-- Monthly rollups of hourly totals, so that a year by month reads a dozen rows per device instead
-- of 8,760 hours (docs/architecture.md, "Storage").
--
-- A rollup is one device's total for one UTC month, written by the monitors' storage upkeep once
-- the month is over (and a day more, so no transaction that began in the month is still open).
-- A chart counts a month in any time zone from the UTC month it mostly overlaps: the rollup, plus
-- the hours of its local month outside the UTC month, minus the hours of the UTC month outside it.
--
-- Late data must never be hidden by a rollup. Every change to an hour of a month that has ended
-- marks that device's month stale in the same transaction (the trigger below), so whoever can see
-- the change can see the mark, and a chart sums a stale month from its hours. The upkeep deletes
-- marks first and sums the hours in a later statement of the same transaction: a change whose
-- mark it deleted was committed by then (the mark's row lock made it wait), and a change after
-- that marks the month again.

CREATE TABLE monthly_consumption (
    device_id  uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    -- The first instant of a UTC month.
    month      timestamptz NOT NULL,
    kwh        numeric NOT NULL,
    PRIMARY KEY (device_id, month) INCLUDE (kwh)
);

CREATE TABLE monthly_consumption_stale (
    device_id  uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    month      timestamptz NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, month)
);

-- One row: every UTC month before `rolled_before` has been rolled up (changes since are marked).
CREATE TABLE monthly_consumption_state (
    single         boolean PRIMARY KEY DEFAULT true CHECK (single),
    rolled_before  timestamptz NOT NULL
);

CREATE FUNCTION ems_mark_month_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- DO UPDATE, not DO NOTHING: it locks an existing mark, so an upkeep deleting that mark waits
    -- for this transaction and then sees its change.
    INSERT INTO monthly_consumption_stale (device_id, month)
    VALUES (NEW.device_id, date_trunc('month', NEW.hour, 'UTC'))
    ON CONFLICT (device_id, month) DO UPDATE SET marked_at = now();
    RETURN NULL;
END
$$;

-- Only hours of a month that has ended (as of the transaction's start) are marked; the hours of
-- the current month, which is all the ingest writes, cost one comparison.
CREATE TRIGGER hourly_consumption_marks_ended_months
    AFTER INSERT OR UPDATE ON hourly_consumption
    FOR EACH ROW WHEN (NEW.hour < date_trunc('month', now(), 'UTC'))
    EXECUTE FUNCTION ems_mark_month_stale();

-- An existing database rolls up from its first month with data; the storage upkeep fills the
-- rollups at its first round. Until then a chart sums hours, as before.
INSERT INTO monthly_consumption_state (rolled_before)
SELECT COALESCE(date_trunc('month', min(first.hour), 'UTC'), date_trunc('month', now(), 'UTC'))
FROM devices d
CROSS JOIN LATERAL (SELECT h.hour FROM hourly_consumption h WHERE h.device_id = d.id ORDER BY h.hour LIMIT 1) first;
