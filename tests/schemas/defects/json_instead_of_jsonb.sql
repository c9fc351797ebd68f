-- json_instead_of_jsonb: a queried document stored as json text
create table public.s1_webhook_deliveries (
  id bigint generated always as identity primary key,
  payload json not null
);
