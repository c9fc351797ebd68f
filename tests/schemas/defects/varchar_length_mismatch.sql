-- varchar_length_mismatch: varchar(255) holding 2-character codes (fires once ANALYZE has run)
create table public.s1_shipping_zones (
  id bigint generated always as identity primary key,
  zone_code varchar(255) not null
);
insert into public.s1_shipping_zones (zone_code)
  select (array['DE', 'FR', 'US', 'GB'])[1 + g % 4] from generate_series(1, 2000) g;
analyze public.s1_shipping_zones;
