-- duplicate_foreign_key: the same foreign key declared twice under two names
create table s2_df_customers (id bigint generated always as identity primary key, name text not null);
create table s2_df_orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null constraint s2_df_orders_customer_id_fkey references s2_df_customers (id)
);
create index s2_df_orders_customer_id_idx on s2_df_orders (customer_id);
alter table s2_df_orders add constraint s2_df_fk_orders_customer
  foreign key (customer_id) references s2_df_customers (id);
