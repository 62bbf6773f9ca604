-- Tariffs: what a customer pays per kWh, in one currency. Either one flat price, or time-of-use
-- bands (a set of weekdays and a range of hours, each with a price) that together price every hour
-- of the week exactly once; the API checks that before it stores them.
--
-- Bands are hours of the customer's own time zone (`users.time_zone`, else UTC): an hourly total
-- (a UTC hour) takes the price of the local weekday and hour its start falls in, so on the day the
-- clocks go back both 03:00 hours are priced as 03:00, and on the day they go forward no hour is
-- priced as 03:00.

CREATE TABLE tariffs (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- An ISO 4217 code such as RON or EUR (the API checks it against the list of codes).
    currency    text NOT NULL CONSTRAINT tariffs_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
    -- Per kWh, in the currency; null when the tariff has bands instead.
    flat_price  numeric(20, 6) CONSTRAINT tariffs_flat_price_not_negative CHECK (flat_price >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tariff_bands (
    user_id     uuid NOT NULL REFERENCES tariffs (user_id) ON DELETE CASCADE,
    position    smallint NOT NULL,
    -- ISO weekdays: 1 is Monday, 7 Sunday.
    weekdays    smallint[] NOT NULL CONSTRAINT tariff_bands_weekdays CHECK (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[] AND cardinality(weekdays) > 0),
    -- Local hours [start_hour, end_hour): 0 to 24.
    start_hour  smallint NOT NULL CONSTRAINT tariff_bands_start_hour CHECK (start_hour BETWEEN 0 AND 23),
    end_hour    smallint NOT NULL CONSTRAINT tariff_bands_end_hour CHECK (end_hour BETWEEN 1 AND 24 AND end_hour > start_hour),
    price       numeric(20, 6) NOT NULL CONSTRAINT tariff_bands_price_not_negative CHECK (price >= 0),
    PRIMARY KEY (user_id, position)
);

-- The price of the hour that starts at `starts_at` for `customer`, or null when they have no tariff.
CREATE FUNCTION tariff_price(customer uuid, starts_at timestamptz) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(t.flat_price, (
        SELECT b.price FROM tariff_bands b,
               LATERAL (SELECT starts_at AT TIME ZONE COALESCE(u.time_zone, 'UTC') AS local) l
        WHERE b.user_id = t.user_id
          AND extract(isodow FROM l.local)::smallint = ANY (b.weekdays)
          AND extract(hour FROM l.local) >= b.start_hour AND extract(hour FROM l.local) < b.end_hour
        ORDER BY b.position LIMIT 1))
    FROM tariffs t JOIN users u ON u.id = t.user_id
    WHERE t.user_id = customer
$$;
