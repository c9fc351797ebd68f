-- unlogged_table: a table made unlogged for a bulk load and never switched back
create unlogged table public.s5_ul_imports (id bigint primary key, payload text);
insert into public.s5_ul_imports select g, 'row ' || g from generate_series(1, 200) g;
