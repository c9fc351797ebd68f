-- table_growth: informational, and only above 100 MB or with a history store; it cannot be
-- planted by a schema script of reasonable size (see tests/cases/table_growth.toml). The table
-- the case file grows:
create table public.s7_growth_events (id bigint generated always as identity primary key, payload text);
