-- idle_in_transaction_timeout_not_set: the database switches idle_in_transaction_session_timeout off (0 = unlimited) for every session
do $$ begin
  execute format('alter database %I set idle_in_transaction_session_timeout = 0', current_database());
end $$;
