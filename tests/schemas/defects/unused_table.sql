-- unused_table: a table loaded once and never read (fires after a statistics window of
-- min_stats_age_s, 7 days by default; tests/cases/unused_table.toml shortens it)
create table public.s7_legacy_import (id bigint primary key, payload text not null);
insert into public.s7_legacy_import select g, 'row ' || g from generate_series(1, 1000) g;
