-- soft_delete_without_partial_index: a soft-delete column and no index on live rows
create table s2_sd_customers (
  id bigint generated always as identity primary key,
  email text not null,
  deleted_at timestamptz
);
