/* pgaudit
id = "varchar_length_mismatch"
title = "Declared string lengths that do not describe the data"
section = "1.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog", "column_stats"]
detects = "From the planner statistics (pg_stats): `varchar(n)` columns whose longest value in the statistics is a small fraction of n (the `varchar(255)` default of ORMs), and unbounded text/varchar columns whose name says the domain is bounded (codes, currencies, emails, hashes, slugs …) and whose values in the statistics are short. pg_stats never holds a column's maximum length: ANALYZE reads a sample of 300 × the statistics target rows (30,000 by default), keeps at most that target of most common values and of histogram bounds, which are quantiles in sort order, not the longest strings, and leaves values over 1 kB out; avg_width is an average. So a length CHECK is proposed only when the statistics hold every value of the whole table: a plain table no larger than the sample, analyzed since its last change, whose most common values account for every row (no histogram). That is the case of the bounded domains (codes, currencies, statuses); elsewhere the finding proposes no bound. Columns that already carry a single-column CHECK constraint are skipped; tables under `min_rows` rows are skipped."
why = "In PostgreSQL a length limit costs nothing and saves nothing in storage; its only value is as a constraint. A limit 10× above the real data constrains nothing (a 250-character country code is accepted), and an unbounded column for a bounded domain lets garbage in. The seed review's 1.1.3: keep VARCHAR where the bound is real, TEXT where content is free, and a bound where the domain has one."
example = "create table customers (id bigint primary key, country_code varchar(255), email text);"
fix = "alter table customers add constraint customers_country_code_length check (char_length(country_code) <= 2) not valid; alter table customers validate constraint customers_country_code_length;"
ignore_when = "The limit is dictated by an external system (a provider field of 255 characters) or the column is free text that merely happens to be short so far."
references = ["https://www.postgresql.org/docs/current/datatype-character.html", "https://www.postgresql.org/docs/current/view-pg-stats.html", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES"]
ok = "Declared string lengths match the data"
ok_message = "Declared string lengths match the data: {with_stats} of {candidates:plural:candidate column} checked against pg_stats"
# nothing to judge (no candidate column on a table large enough): not applicable, no 🟢 line;
# the candidates of the query without their statistics (a partitioned table: its rows are
# its partitions', so it counts, failing open)
applies = '''
exists (select 1 from scope_tables c
        join pg_catalog.pg_attribute a on a.attrelid = c.oid
        where not c.relispartition and (c.relkind = 'p' or c.reltuples < 0 or c.reltuples >= %(min_rows)s)
          and a.attnum > 0 and not a.attisdropped
          and ((a.atttypid = 'pg_catalog.varchar'::regtype and a.atttypmod - 4 >= %(min_declared)s)
               or (a.atttypid in ('pg_catalog.text'::regtype, 'pg_catalog.varchar'::regtype) and a.atttypmod < 0
                   and a.attname ~* %(bounded_name_pattern)s))
          and not exists (select 1 from pg_catalog.pg_constraint con
                          where con.conrelid = c.oid and con.contype = 'c' and con.conkey = array[a.attnum])
        offset 0)'''
not_applicable = "no column to judge: no long varchar(n) (min_declared) and no unbounded column named like a bounded domain, on a table large enough (min_rows)"
census = '''
exists (select 1 from census_columns c
        where (c.atttypid = 'pg_catalog.varchar'::regtype and c.atttypmod - 4 >= %(min_declared)s)
           or (c.atttypid in ('pg_catalog.text'::regtype, 'pg_catalog.varchar'::regtype)
               and c.atttypmod < 0 and c.attname ~* %(bounded_name_pattern)s))'''
impact = "Low: the declared limit does not protect the data; invalid oversized values are accepted. No storage or speed effect."
message = "{object}.{column} is {declared}: the longest value in pg_stats has {stats_max} characters, the average width is {avg_width} bytes over ~{estimated_rows} rows; {_bound_note}"
remediation = "Express the real bound as a CHECK constraint: added NOT VALID and then validated it takes no long lock and does not rewrite. SQL is given only where pg_stats holds every value of the table: its bound is twice the longest value rounded up to a power of two (16 at least), headroom for values not seen yet; replace it with the domain's real limit where there is one (2 for ISO country codes, 3 for currencies, 254 for e-mail). Elsewhere measure first (`select max(char_length(col)) from tbl`) and choose the bound from the domain: a NOT VALID constraint already refuses new rows over it. `ALTER COLUMN … TYPE varchar(m)` would enforce the same but rewrites the table when shrinking."
replica_note = "pg_stats is replicated from the primary; the verdict holds on a standby."
# no_verdict: no statistics window (the engine words those) but pg_stats without a row for any
# candidate column

[severity]
default = "info"
ok = ["_summary"]

[labels]
declared = "Declared type"
stats_max = "Longest value in pg_stats (a lower bound)"
all_values_known = "pg_stats holds every value"
longest_value = "Longest value in the table"
distinct_values = "Distinct values"
avg_width = "Average width (bytes)"
null_pct = "Null share"
n_distinct = "Distinct values (pg_stats estimate)"
estimated_rows = "Estimated rows"
suggested_bound = "Suggested bound (twice the longest value, to a power of two)"
bounded_name = "Unbounded, named like a bounded domain"
candidates = "Candidate columns"
with_stats = "Candidate columns with statistics"

[params]
min_declared = 100       # varchar(n) with n below this is assumed deliberate
max_ratio = 0.2          # longest sampled value at most this share of n
min_rows = 1000          # tables with fewer estimated rows have too little data to judge
bounded_name_pattern = "(^|_)(code|iso|iso_code|currency|country|country_code|locale|lang|language|zip|zip_code|postcode|postal_code|sku|slug|hash|sha1|sha256|md5|checksum|email|phone|ip|mac)$"
text_max_known = 64      # unbounded column with a bounded-looking name: longest sampled value at most this
*/
with cand as (
  select c.oid as relid, c.relkind, c.nspname, c.relname, a.attnum, a.attname,
         format_type(a.atttypid, a.atttypmod) as declared,
         case when a.atttypmod > 4 then a.atttypmod - 4 end as declared_len,
         -- ANALYZE samples 300 x the statistics target rows (-1, or null on 17+: the default)
         coalesce(nullif(a.attstattarget::int, -1), current_setting('default_statistics_target')::int) as stat_target,
         c.reltuples
  from pg_catalog.pg_attribute a
  join scope_tables c on c.oid = a.attrelid
  where not c.relispartition
    and a.attnum > 0 and not a.attisdropped
    and ((a.atttypid = 'pg_catalog.varchar'::regtype and a.atttypmod - 4 >= %(min_declared)s)
         or (a.atttypid in ('pg_catalog.text'::regtype, 'pg_catalog.varchar'::regtype) and a.atttypmod < 0
             and a.attname ~* %(bounded_name_pattern)s))
    and not exists (   -- a single-column CHECK already bounds it
      select 1 from pg_catalog.pg_constraint con
      where con.conrelid = c.oid and con.contype = 'c' and con.conkey = array[a.attnum])
), rows as (
  -- a partitioned table's rows are its partitions'
  select k.relid, sum(pc.reltuples) filter (where pc.reltuples >= 0) as est_rows,
         bool_and(pc.reltuples < 0) as never_analyzed,
         -- rows changed since the statistics were gathered (unknown without track_counts)
         sum(case when current_setting('track_counts')::bool
                  then pg_catalog.pg_stat_get_mod_since_analyze(pc.oid) end) as mods
  from (select distinct relid from cand) k
  -- pg_partition_tree() is empty for a plain table: add the table itself
  cross join lateral (select k.relid union select t.relid from pg_catalog.pg_partition_tree(k.relid) t) pt
  join pg_catalog.pg_class pc on pc.oid = pt.relid and pc.relkind = 'r'
  group by k.relid
), stats as (
  select c.*, r.est_rows, r.never_analyzed, r.mods, s.avg_width, s.null_frac, s.n_distinct,
         s.attname is not null as has_stats,
         s.most_common_vals::text::text[] as mcv,
         s.histogram_bounds::text::text[] as hist,
         s.most_common_freqs as mcf
  from cand c
  join rows r on r.relid = c.relid
  left join pg_catalog.pg_stats s on s.schemaname = c.nspname and s.tablename = c.relname
       and s.attname = c.attname and s.inherited = (c.relkind = 'p')
  where r.never_analyzed or r.est_rows >= %(min_rows)s
), judged as (
  select t.*,
         (select max(char_length(v)) from unnest(coalesce(t.mcv, '{}') || coalesce(t.hist, '{}')) v) as stats_max,
         -- every value of the table is in the most common values: ANALYZE read the whole
         -- (plain) table, nothing changed since, no histogram, and the values' frequencies
         -- account for every non-null row (values over 1 kB are never kept; a value seen once
         -- is never a most common value: either would leave rows unaccounted for)
         case when t.relkind = 'p'
                then 'a partitioned table''s statistics are a sample of its partitions'
              when t.est_rows > 300 * t.stat_target
                then format('ANALYZE sampled %%s of ~%%s rows', 300 * t.stat_target, t.est_rows::bigint)
              when t.hist is not null or t.mcv is null
                   or t.est_rows * (1 - t.null_frac - (select sum(f) from unnest(t.mcf) f)) >= 0.5
                then 'pg_stats keeps the most common values and histogram bounds, not the longest value'
              when t.mods is null
                then 'changes since ANALYZE are not counted (track_counts is off)'
              when t.mods > 0
                then format('%%s row%%s changed since the last ANALYZE (analyze and audit again for a bound)', t.mods, case when t.mods = 1 then '' else 's' end)
         end as _no_bound
  from stats t
), found as (
  select j.*, j._no_bound is null as all_values_known,
         case when j._no_bound is null then (select max(char_length(v)) from unnest(j.mcv) v) end as longest,
         case when j._no_bound is null then cardinality(j.mcv) end as n_values
  from judged j
  where j.has_stats and j.stats_max is not null
    and ((j.declared_len is not null and j.stats_max <= j.declared_len * %(max_ratio)s)
         or (j.declared_len is null and j.stats_max <= %(text_max_known)s))
), bounded as (
  select f.*,
         case when f.longest is not null
              then greatest(16, power(2, ceil(log(2, greatest(f.longest, 1) * 2::numeric))))::int end as suggested
  from found f
), verdict as (
  select count(*) as candidates, count(*) filter (where has_stats) as with_stats from judged
)
select null::text as object, null::text as object_type, null::text[] as columns,
       null::text as column, null::text as declared, null::int as stats_max, null::int as avg_width,
       null::real as null_pct, null::text as n_distinct, null::bigint as estimated_rows,
       null::boolean as all_values_known, null::int as longest_value, null::int as distinct_values,
       null::int as suggested_bound, null::boolean as bounded_name,
       null::bigint as candidates, null::bigint as with_stats, false as _summary, null::text as _bound_note,
       null::text as remediation,
       format('pg_stats has no rows for the %%s (tables never analyzed, or statistics hidden from this role): run ANALYZE or grant pg_read_all_data', case when v.candidates = 1 then 'candidate column' else v.candidates || ' candidate columns' end) as no_verdict
from verdict v
where v.candidates > 0 and v.with_stats = 0
union all
select b.relid::regclass::text, 'column', array[b.attname::text],
       quote_ident(b.attname), b.declared, b.stats_max, b.avg_width, round((b.null_frac * 100)::numeric, 1)::real,
       case when b.n_distinct < 0 then format('%%s%%%% of rows', round((-b.n_distinct * 100)::numeric))
            else b.n_distinct::bigint::text end,
       b.est_rows::bigint, b.all_values_known, b.longest, b.n_values, b.suggested,
       b.declared_len is null, null, null, false,
       case when b.suggested is not null
            then format('all %%s distinct values of the table are in pg_stats, the longest %%s characters: a CHECK at %%s leaves headroom', b.n_values, b.longest, b.suggested)
            else 'no bound is proposed: ' || b._no_bound end,
       case when b.suggested is not null then
       format('alter table %%1$s add constraint %%2$I check (char_length(%%3$I) <= %%4$s) not valid;
alter table %%1$s validate constraint %%2$I;',
              -- byte-bounded stems (whole characters): PostgreSQL truncates names at 63 bytes
              b.relid::regclass,
              (select left(b.relname, max(k)) from generate_series(0, length(b.relname)) k where octet_length(left(b.relname, k)) <= 24) || '_'
              || (select left(b.attname, max(k)) from generate_series(0, length(b.attname)) k where octet_length(left(b.attname, k)) <= 24) || '_length', b.attname, b.suggested) end,
       null
from bounded b
union all
select quote_ident(current_database()), 'database', null, null, null, null, null, null, null, null,
       null, null, null, null, null, v.candidates, v.with_stats, true, null, null, null
from verdict v
-- only when something was judged: no row then means nothing to judge (applies says so)
where not exists (select 1 from found) and v.candidates > 0 and v.with_stats > 0
order by 1, 3
