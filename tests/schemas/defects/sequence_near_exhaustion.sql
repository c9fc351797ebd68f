-- sequence_near_exhaustion: an int4 serial key at 88 % of 2,147,483,647 (every INSERT fails at the limit)
create table public.s7_orders (id serial primary key, note text);
select setval('public.s7_orders_id_seq', 1900000000);
