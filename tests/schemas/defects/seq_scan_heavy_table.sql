-- seq_scan_heavy_table: a 100k-row table searched 100 times on a column with no index
-- (fires once the statistics window reaches min_stats_age_s, 1 day by default)
create table public.s3_seq_orders (id bigint primary key, external_ref text not null);
insert into public.s3_seq_orders select g, 'ref-' || g from generate_series(1, 100000) g;
analyze public.s3_seq_orders;
do $$
begin
  for i in 1..100 loop
    perform count(*) from public.s3_seq_orders where external_ref = 'ref-' || i;
  end loop;
end $$;
