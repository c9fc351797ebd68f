-- foreign_key_not_validated: a foreign key and a CHECK added NOT VALID and never validated
create table s2_nv_customers (id bigint generated always as identity primary key, name text not null);
create table s2_nv_orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null,
  total numeric(12, 2) not null
);
create index s2_nv_orders_customer_id_idx on s2_nv_orders (customer_id);
alter table s2_nv_orders add constraint s2_nv_orders_customer_id_fkey
  foreign key (customer_id) references s2_nv_customers (id) not valid;
alter table s2_nv_orders add constraint s2_nv_orders_total_check check (total >= 0) not valid;
