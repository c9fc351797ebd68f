-- slow_query_logging_disabled: the database switches slow query logging off for every session
do $$ begin
  execute format('alter database %I set log_min_duration_statement = -1', current_database());
end $$;
