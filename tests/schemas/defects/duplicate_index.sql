-- duplicate_index: a second index identical to the primary key's index
create table public.s3_dup_orders (id bigint primary key, customer_ref text not null);
create index s3_dup_orders_id_idx on public.s3_dup_orders (id);
