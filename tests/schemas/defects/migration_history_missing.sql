-- migration_history_missing: the defect is an absence. This snippet adds a table whose name only
-- looks like a history table (no migration tool's signature columns); the check fires when the
-- database it is planted into has no real history table (migration_failed's snippet adds one).
create table public.s45_schema_notes (id bigint generated always as identity primary key, note text not null);
-- In planted.sql it follows clean.sql, whose schema_migrations table is removed here.
drop table if exists public.schema_migrations;
