-- hot_row_contention: 1 000 balance rows, each updated 110 times (110 000 row updates)
-- (fires once the statistics window reaches min_stats_age_s, 1 hour by default)
create table public.s3_hot_balances (account_id bigint primary key, credits bigint not null);
insert into public.s3_hot_balances select g, 0 from generate_series(1, 1000) g;
do $$
begin
  for i in 1..110 loop
    update public.s3_hot_balances set credits = credits + 1;
  end loop;
end $$;
