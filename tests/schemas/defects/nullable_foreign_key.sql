-- nullable_foreign_key: a cascading (owned) child whose key allows NULL
create table public.s1_carts (id bigint generated always as identity primary key);
create table public.s1_cart_items (
  id bigint generated always as identity primary key,
  cart_id bigint references public.s1_carts on delete cascade,   -- should be NOT NULL
  sku text not null
);
