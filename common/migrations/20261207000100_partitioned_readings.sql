-- Raw readings partitioned by day (UTC), so that keeping them for a limited time is dropping whole
-- partitions (instant, no dead rows to vacuum) and a query bounded in time reads only its days.
-- Hourly totals stay one table, kept forever. Why a day, why the services create partitions
-- themselves: docs/architecture.md, "Storage".
--
-- The key is still (device_id, ts): a reading's timestamp decides its one partition, so a reading
-- sent again meets its first copy there and is skipped as before.

-- Creates the missing daily partitions `readings_YYYYMMDD` from `first_day` to `last_day`
-- (inclusive) and returns how many it created. Safe from several processes at once: creators take
-- turns on one advisory lock, and each creates only what is still missing when its turn comes.
CREATE FUNCTION ems_create_readings_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    day date := first_day;
    partition_name text;
    created integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL OR last_day < first_day THEN
        RETURN 0;
    END IF;
    IF last_day - first_day > 3660 THEN
        RAISE EXCEPTION 'refusing to create % daily partitions of readings at once (from % to %)',
            last_day - first_day + 1, first_day, last_day
            USING HINT = 'create them in ranges of at most ten years';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ems.readings.partitions'));
    WHILE day <= last_day LOOP
        partition_name := 'readings_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(quote_ident(partition_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF readings FOR VALUES FROM (%L) TO (%L)',
                partition_name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN created;
END
$$;

ALTER TABLE readings RENAME TO readings_unpartitioned;
ALTER INDEX readings_pkey RENAME TO readings_unpartitioned_pkey;

CREATE TABLE readings (
    device_id   uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    ts          timestamptz NOT NULL,
    kwh         numeric(20, 6) NOT NULL,
    interval_s  integer NOT NULL,
    PRIMARY KEY (device_id, ts)
) PARTITION BY RANGE (ts);

-- The readings already stored move into the partitions of their days (only days with readings:
-- a stray early reading does not create a partition for every day since).
SELECT ems_create_readings_partitions(day, day)
FROM (SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day FROM readings_unpartitioned) AS days;
INSERT INTO readings (device_id, ts, kwh, interval_s)
SELECT device_id, ts, kwh, interval_s FROM readings_unpartitioned;
DROP TABLE readings_unpartitioned;
