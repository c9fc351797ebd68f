-- timestamp_without_time_zone: an instant stored without its zone
create table public.s1_logins (
  id bigint generated always as identity primary key,
  logged_in_at timestamp not null default now()
);
