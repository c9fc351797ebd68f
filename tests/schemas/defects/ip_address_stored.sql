-- ip_address_stored: every visit keeps the client IP and the full user agent, with no retention (seed 6.1.4)
create table public.s6_page_visits (
  id bigint generated always as identity primary key,
  path text not null,
  ip_address inet not null,
  user_agent text,
  visited_at timestamptz not null default now()
);
