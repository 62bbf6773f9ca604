-- The IANA time zone a user reads times in (e.g. Europe/Bucharest); NULL means "the browser's
-- own". The API checks names against the IANA database before storing them; the length bound is
-- a second line of defence (the longest IANA name has 32 characters).
ALTER TABLE users ADD COLUMN time_zone text
    CONSTRAINT users_time_zone_length CHECK (char_length(time_zone) BETWEEN 1 AND 64);
