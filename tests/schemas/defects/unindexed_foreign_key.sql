-- unindexed_foreign_key: a foreign key whose column leads no index (only a partial index on another predicate)
create table ufk_customers (id bigint generated always as identity primary key, name text not null);
create table ufk_invoices (
  id bigint generated always as identity primary key,
  ufk_customer_id bigint not null references ufk_customers (id),
  status text not null default 'open',
  created_at timestamptz not null default now()
);
create index ufk_invoices_open_idx on ufk_invoices (ufk_customer_id) where status = 'open';
