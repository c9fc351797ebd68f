-- redundant_index: (customer_id) is a leading prefix of (customer_id, created_at)
create table public.s3_red_orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null,
  created_at timestamptz not null default now()
);
create index s3_red_orders_customer_idx on public.s3_red_orders (customer_id);
create index s3_red_orders_customer_created_idx on public.s3_red_orders (customer_id, created_at);
