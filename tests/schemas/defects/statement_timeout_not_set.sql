-- statement_timeout_not_set: the database switches statement_timeout off (0 = unlimited) for every session
do $$ begin
  execute format('alter database %I set statement_timeout = 0', current_database());
end $$;
