-- migration_failed: a liquibase changelog lock left held by a crashed update two hours ago.
-- (The lock table alone is no history table, so migration_history_missing still fires too.)
create table public.databasechangeloglock (id int primary key, locked boolean not null,
  lockgranted timestamp, lockedby varchar(255));
insert into public.databasechangeloglock values (1, true, localtimestamp - interval '2 hours', 's45-ci-runner (10.0.0.7)');
