-- slow_queries: ten calls of a 260 ms statement (recorded only where pg_stat_statements is
-- preloaded and created in this database; the verdict waits for min_stats_age_s of collection)
-- (servers without contrib, such as the PostgreSQL 13 test server, have no such extension)
do $$ begin
  if exists (select from pg_catalog.pg_available_extensions where name = 'pg_stat_statements') then
    create extension if not exists pg_stat_statements;
  end if;
end $$;
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
select pg_sleep(0.26);
