-- pg_upgrade_blocking_column_type: a job table storing the handler function's OID (regproc)
create table public.s53_scheduled_jobs (
  id bigint generated always as identity primary key,
  handler regproc not null,
  run_at timestamptz not null
);
