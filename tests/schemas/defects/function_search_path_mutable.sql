-- function_search_path_mutable: a helper that resolves order_lines with the caller's path
create table public.s62_order_lines (
  id bigint generated always as identity primary key,
  order_id bigint not null,
  amount numeric(12, 2) not null
);
create function public.s62_order_total(p_order bigint) returns numeric language sql stable
  as 'select sum(amount) from s62_order_lines where order_id = p_order';
