-- missing_foreign_key: id columns named after other tables' keys with no foreign key constraint
create table mfk_users (id uuid primary key default gen_random_uuid(), email text not null unique);
create table mfk_categories (id bigint generated always as identity primary key, name text not null);
create table mfk_orders (
  id uuid primary key default gen_random_uuid(),
  mfk_user_id uuid not null,          -- -> mfk_users(id), no constraint
  mfk_category_id bigint,             -- -> mfk_categories(id), no constraint
  created_at timestamptz not null default now()
);
create index mfk_orders_user_id_idx on mfk_orders (mfk_user_id);
create index mfk_orders_category_id_idx on mfk_orders (mfk_category_id);
