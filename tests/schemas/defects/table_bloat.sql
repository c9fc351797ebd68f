-- table_bloat: three rows in four deleted from every page of a ~80 MB table; the file cannot shrink
create table bloat_jobs (
  id bigint primary key,
  state text not null,
  payload text not null
);
insert into bloat_jobs select g, 'done', repeat('x', 80) from generate_series(1, 600000) g;
delete from bloat_jobs where id % 4 <> 0;
-- flush this session's write counters first, or they land after ANALYZE and read as "modified since"
do $$ begin
  if to_regproc('pg_catalog.pg_stat_force_next_flush') is not null then
    perform pg_catalog.pg_stat_force_next_flush();
  end if;
end $$;
analyze bloat_jobs;
