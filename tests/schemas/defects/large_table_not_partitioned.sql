-- large_table_not_partitioned: an append-only, time-keyed log that is the largest table of the database
-- (200k rows: an info finding with the default thresholds; past 10 M rows or 1 GB it is a warning)
create table ltp_click_events (
  id bigint generated always as identity primary key,
  actor text not null,
  action text not null,
  created_at timestamptz not null default now()
);
insert into ltp_click_events (actor, action, created_at)
select 'user' || (g % 1000), 'login', now() - make_interval(secs => g)
from generate_series(1, 200000) g;
analyze ltp_click_events;
