-- expired_rows_accumulating: one-time codes with an expires_at column and no purge job
-- (12,000 rows, 10,000 of them expired days ago; the seed review's 7.1.3)
create table public.s7_otps (
  id bigint generated always as identity primary key,
  code text not null,
  expires_at timestamptz not null
);
create index s7_otps_expires_at_idx on public.s7_otps (expires_at);
insert into public.s7_otps (code, expires_at)
  select lpad((g % 1000000)::text, 6, '0'), now() - interval '10 days' + g * interval '1 minute'
  from generate_series(1, 12000) g;
