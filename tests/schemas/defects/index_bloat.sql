-- index_bloat: 90% of a 600k-row table deleted; the primary-key index keeps its ~13 MB
-- (ANALYZE refreshes the row counts; no VACUUM so the script can run in one transaction)
create table public.s3_bloat_events (id bigint primary key, kind smallint not null);
insert into public.s3_bloat_events select g, (g % 5)::smallint from generate_series(1, 600000) g;
delete from public.s3_bloat_events where id % 10 <> 0;
analyze public.s3_bloat_events;
