-- lock_timeout_not_set: the database switches lock_timeout off (0 = wait for locks forever) for every session
do $$ begin
  execute format('alter database %I set lock_timeout = 0', current_database());
end $$;
