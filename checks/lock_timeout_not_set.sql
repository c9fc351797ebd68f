/* pgaudit
id = "lock_timeout_not_set"
title = "No lock_timeout for the database or its login roles"
section = "4.2"
format = 2
include = "_setting_not_set.toml"
priority = "immediate"
detects = "Databases where lock_timeout is 0 (wait forever) at server, ALTER DATABASE and ALTER ROLE ALL level while some login role that may connect has no value of its own: one finding for the database, listing those roles (they are grouped there rather than reported one by one, since one ALTER DATABASE fixes them all). Separately, each login role whose own ALTER ROLE (or ALTER ROLE ... IN DATABASE) value switches it off (0), overriding whatever the database sets (info for superusers, which are often deliberate). Levels are read from pg_db_role_setting and from the audit role's settings captured before pgaudit's own SETs (pgaudit sets its own lock_timeout), never from current_setting()."
why = "A statement waiting for a lock sits in the lock queue, and every later statement that needs a conflicting lock queues behind it: one ALTER TABLE waiting on a long transaction blocks all reads and writes of the table, and a SELECT ... FOR UPDATE on a hot row (users.credits) can wait indefinitely. With lock_timeout the waiter gives up after a few seconds and the application retries, instead of connections piling up until the pool is exhausted."
example = "-- postgresql.conf: lock_timeout = 0, and no ALTER DATABASE/ROLE ... SET lock_timeout"
fix = "alter database app set lock_timeout = '5s';  -- migrations: set lock_timeout = '3s' per session and retry"
ignore_when = "The application, pooler or migration harness sets lock_timeout on every connection or transaction (SET lock_timeout in the pool's connection hook, TypeORM/Prisma/Rails migration settings, PgBouncer connect_query): the database then looks unset but is not. Document where it is set and waive this check. Superuser or maintenance roles with 0 are often deliberate."
references = ["https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT", "https://www.postgresql.org/docs/current/explicit-locking.html", "https://www.postgresql.org/docs/current/sql-alterdatabase.html", "https://www.postgresql.org/docs/current/sql-alterrole.html"]
ok = "lock_timeout is configured for the database and its login roles"
impact = "One statement waiting for a lock queues every later conflicting statement behind it: blocked tables, piled-up connections, outages from a single migration."
remediation = "Set a default every session inherits (ALTER DATABASE ... SET lock_timeout), typically a few seconds, and make the application retry on SQLSTATE 55P03 (lock_not_available). Give roles that legitimately wait longer their own value (ALTER ROLE ... IN DATABASE ... SET). It applies to new sessions only; no table is rewritten or locked."

severity.default = "critical"

[params]
setting = "lock_timeout"
recommended = "5s"
*/
-- pgaudit:include _setting_not_set.sql
