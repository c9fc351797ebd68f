-- archiving_candidate: a 1.05-million-row log (just over the default min_rows) whose rows are mostly (about
-- 80 %) older than a year; the check reads only pg_stats, the fixture's ANALYZE fills it
create table public.s7_page_views (
  id bigint generated always as identity primary key,
  created_at timestamptz not null,
  kind smallint not null
);
insert into public.s7_page_views (created_at, kind)
  select now() - interval '4 years' + g * interval '120 seconds', (g % 5)::smallint
  from generate_series(1, 850000) g;
insert into public.s7_page_views (created_at, kind)
  select now() - g * interval '2 minutes', 1 from generate_series(1, 200000) g;
