-- slow_queries: ten calls of a 260 ms statement (recorded only where pg_stat_statements is
-- preloaded and created in this database; the verdict waits for min_stats_age_s of collection)
create extension if not exists pg_stat_statements;
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
