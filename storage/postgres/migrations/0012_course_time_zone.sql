-- A course's own IANA time zone (`Europe/Madrid`), chosen by its teacher with
-- /course_settings. NULL means the installation's zone (ATTN_TIMEZONE), decided when read,
-- so changing the installation's setting still moves every course that never chose one.
ALTER TABLE courses ADD COLUMN IF NOT EXISTS time_zone text;
