-- dead_tuples_accumulating: 15 000 of 20 000 rows deleted and never vacuumed
-- (fires once the statistics window reaches min_stats_age_s, 1 hour by default)
create table public.s3_dead_jobs (id bigint primary key, status text not null);
insert into public.s3_dead_jobs select g, 'done' from generate_series(1, 20000) g;
delete from public.s3_dead_jobs where id <= 15000;
