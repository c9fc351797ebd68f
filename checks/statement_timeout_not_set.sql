/* pgaudit
id = "statement_timeout_not_set"
title = "No statement_timeout for the database or its login roles"
section = "4.2"
format = 2
include = "_setting_not_set.toml"
detects = "Databases where statement_timeout is 0 (unlimited) at server, ALTER DATABASE and ALTER ROLE ALL level while some login role that may connect has no value of its own; and login roles whose own ALTER ROLE value switches it off (0). Levels are read from pg_db_role_setting and from the audit role's settings captured before pgaudit's own SETs, never from current_setting()."
why = "Without a statement timeout one runaway query (a missing WHERE, a bad plan, a lock queue) runs for hours, holds its snapshot and locks, blocks vacuum and exhausts connections. Section 4.2 (concurrency and locking) because its damage is the locks and snapshots it holds; a cap turns an outage into one failed request."
example = "-- postgresql.conf: statement_timeout = 0, and no ALTER DATABASE/ROLE ... SET statement_timeout"
fix = "alter database app set statement_timeout = '30s';  -- batch/migration roles: alter role migrator in database app set statement_timeout = '15min';"
ignore_when = "The application or pooler sets statement_timeout on every connection (SET in the connection hook, PgBouncer connect_query): then document it and waive this check. Superuser or migration roles with 0 are often deliberate."
references = ["https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT", "https://www.postgresql.org/docs/current/sql-alterdatabase.html", "https://www.postgresql.org/docs/current/sql-alterrole.html"]
ok = "statement_timeout is configured for the database and its login roles"
impact = "A runaway query holds locks and its snapshot indefinitely: blocked writers, vacuum held back, connection exhaustion."
remediation = "Set a ceiling where every session inherits it (ALTER DATABASE ... SET), then raise it only for the roles that need longer (ALTER ROLE ... IN DATABASE ... SET). It applies to new sessions only; no table is rewritten or locked."

severity.default = "warning"

[params]
setting = "statement_timeout"
recommended = "30s"
*/
-- pgaudit:include _setting_not_set.sql
