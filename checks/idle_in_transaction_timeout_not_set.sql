/* pgaudit
id = "idle_in_transaction_timeout_not_set"
title = "No idle_in_transaction_session_timeout for the database or its login roles"
section = "4.2"
format = 2
include = "_setting_not_set.toml"
detects = "Databases where idle_in_transaction_session_timeout is 0 (unlimited) at server, ALTER DATABASE and ALTER ROLE ALL level while some login role that may connect has no value of its own; and login roles whose own ALTER ROLE value switches it off (0). Levels are read from pg_db_role_setting and from the audit role's settings captured before pgaudit's own SETs."
why = "A session that opens a transaction and then waits (an application that forgot to commit, a debugger, a crashed worker behind a pooler) keeps its row locks and its snapshot: writers queue behind it and vacuum cannot remove any row version newer than its snapshot, so every table bloats."
example = "begin; update accounts set balance = balance - 10 where id = 1; -- ...and the client never commits"
fix = "alter database app set idle_in_transaction_session_timeout = '60s';"
ignore_when = "Every client sets it on connect (pooler connect_query, driver option) or transaction_timeout (PostgreSQL 17+) already bounds whole transactions: document it and waive the check."
references = ["https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT", "https://www.postgresql.org/docs/current/sql-alterdatabase.html"]
ok = "idle_in_transaction_session_timeout is configured for the database and its login roles"
impact = "An abandoned open transaction holds locks and blocks vacuum until someone kills it by hand."
remediation = "Set it where every session inherits it (ALTER DATABASE ... SET); the server then terminates a session idle inside a transaction for longer, releasing its locks and snapshot. Applies to new sessions; nothing is rewritten or locked."

severity.default = "warning"

[params]
setting = "idle_in_transaction_session_timeout"
recommended = "60s"
*/
-- pgaudit:include _setting_not_set.sql
