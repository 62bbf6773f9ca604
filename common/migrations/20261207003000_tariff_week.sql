-- Prices without a lookup per hour. `tariff_price(customer, hour)` looked the tariff up again for
-- every hourly total it priced: a month by day prices 744 hours, and took 9 ms instead of 0.7 even
-- for a customer without a tariff. A query now expands the tariff once into its week, 168 prices
-- from Monday 00:00 to Sunday 23:00 on the customer's clock (`tariff_week`), and picks each hour's
-- price from it (`week_hour`, a plain expression that PostgreSQL inlines).
CREATE FUNCTION tariff_week(customer uuid) RETURNS numeric[]
LANGUAGE sql STABLE AS $$
    SELECT array_agg(COALESCE(t.flat_price, (
               SELECT b.price FROM tariff_bands b
               WHERE b.user_id = t.user_id AND d::smallint = ANY (b.weekdays) AND h >= b.start_hour AND h < b.end_hour
               ORDER BY b.position LIMIT 1)) ORDER BY d, h)
    FROM tariffs t, generate_series(1, 7) AS d, generate_series(0, 23) AS h
    WHERE t.user_id = customer
$$;

-- The clock a customer's tariff is read on: their time zone, UTC if none.
CREATE FUNCTION tariff_zone(customer uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(time_zone, 'UTC') FROM users WHERE id = customer
$$;

-- Which of a week's 168 prices (1-based) is that of the hour starting at `starts_at`, on the clock
-- of `zone`: local hour n since 1970-01-01 00:00, a Thursday, is hour (n + 72) mod 168 from Monday.
CREATE FUNCTION week_hour(zone text, starts_at timestamptz) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT (((floor(extract(epoch FROM starts_at AT TIME ZONE zone) / 3600)::bigint + 72) % 168 + 168) % 168)::int + 1
$$;

-- The price of the hour that starts at `starts_at` for `customer`, or null when they have no
-- tariff; for a single hour (queries over many hours join `tariff_week` once instead).
CREATE OR REPLACE FUNCTION tariff_price(customer uuid, starts_at timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT (tariff_week(customer))[week_hour(tariff_zone(customer), starts_at)]
$$;
