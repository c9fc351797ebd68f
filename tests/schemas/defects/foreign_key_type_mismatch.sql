-- foreign_key_type_mismatch: an integer column referencing a bigint identity key
create table s2_tm_orders (id bigint generated always as identity primary key, placed_at timestamptz not null);
create table s2_tm_order_lines (
  id bigint generated always as identity primary key,
  order_id integer not null references s2_tm_orders (id),
  quantity integer not null check (quantity > 0)
);
create index s2_tm_order_lines_order_id_idx on s2_tm_order_lines (order_id);
