-- The mass-drift data set of the memory figures (levelsync's own schema, as `levelsync migrate`
-- creates it): :users users x the four default specializations, about two thirds of the pairs
-- in desync, generated set-based. Run after `levelsync migrate`:
--   psql "$DATABASE_URL" -v users=375000 -f scripts/mass-drift-dataset.sql
-- Drift per pair (r uniform in [0, 1)): r < 0.50 license one level below the progress level
-- (one above when the progress level is 1), r < 0.60 no license, r < 0.67 no progress record,
-- else in sync.
SET search_path = levelsync;
SELECT setseed(0.42);
CREATE TEMP TABLE grid AS
  SELECT u, s.id AS spec, s.max_level AS mx, random() AS r, 1 + floor(random() * s.max_level)::int AS lvl
  FROM generate_series(1, :users) u
  CROSS JOIN (SELECT id, max_level FROM specializations ORDER BY id) s;
INSERT INTO progress (user_id, specialization_id, level, xp, sessions)
  SELECT u, spec, lvl, lvl * 10000, lvl * 5 FROM grid WHERE NOT (r >= 0.60 AND r < 0.67) ORDER BY u, spec;
INSERT INTO licenses (user_id, specialization_id, level, max_achieved_level)
  SELECT u, spec, l, l FROM (
    SELECT u, spec, CASE WHEN r < 0.50 THEN (CASE WHEN lvl > 1 THEN lvl - 1 ELSE lvl + 1 END) ELSE lvl END AS l, r FROM grid
  ) g WHERE NOT (r >= 0.50 AND r < 0.60) ORDER BY u, spec;
SELECT count(*) FILTER (WHERE r < 0.50) AS mismatch, count(*) FILTER (WHERE r >= 0.50 AND r < 0.60) AS missing_license,
       count(*) FILTER (WHERE r >= 0.60 AND r < 0.67) AS missing_progress, count(*) AS pairs FROM grid;
DROP TABLE grid;
VACUUM ANALYZE progress;
VACUUM ANALYZE licenses;
