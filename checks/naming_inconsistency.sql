/* pgaudit
id = "naming_inconsistency"
title = "Names outside the database's dominant naming convention"
section = "1.1"
severity = "info"
needs = ["catalog"]
detects = "Tables and columns whose names break the convention most of the database follows, computed from the catalog: letter case style (snake_case, camelCase, PascalCase, UPPER_SNAKE) separately for tables and for columns, plural vs singular table names, and the `_id` suffix on single-column foreign keys to an `id` key. A convention counts as dominant when at least `min_dominance` of the classified names follow it. One finding per table lists its outliers; a consistent database gets a 🟢 line with the numbers."
why = "Consistent names make SQL guessable: with one convention developers write `user_id` without looking it up, and tools that infer relationships from names (ORMs, ERD generators, pgaudit's own missing-FK check) work. Outliers cost a lookup or a bug on every query that touches them."
example = "create table users (id bigint primary key, created_at timestamptz); create table order (Id bigint primary key, userRef bigint references users);"
fix = "alter table \"order\" rename to orders; alter table orders rename column \"Id\" to id; alter table orders rename column \"userRef\" to user_id;"
ignore_when = "Legacy or third-party tables kept under their original names (add them to `ignore_tables`), or `*_by`/`*_to` style FKs chosen deliberately (the `fk_name_exceptions` pattern)."
references = ["https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS", "https://www.postgresql.org/docs/current/sql-altertable.html"]
ok = "Naming follows one convention"
impact = "Low: developers must look names up, name-based tooling mis-infers relationships; no data at risk."
message = "{object}: {outliers}"
remediation = "Rename the outliers to the dominant convention (ALTER TABLE … RENAME [COLUMN] … TO …, brief lock, no rewrite) in the same deploy as the application change, or keep a compatibility view. No SQL is generated: the right new name (plural form, FK name) needs a human."

[params]
min_dominance = 0.8                 # share of names that makes a convention dominant
fk_name_exceptions = "(_by|_to|_from|^parent|^owner)$"   # FK column names that need no _id suffix
number_neutral_words = ["news", "data", "media", "metadata", "info", "staff", "series", "news", "species", "equipment", "information", "software", "feedback", "audio", "analytics", "settings", "history", "inventory", "stock"]
singular_s_words = ["alias", "canvas", "atlas", "bias", "gas", "lens", "chaos", "ethos", "corpus", "census", "bonus", "focus", "thesis", "summons", "canvas", "apparatus", "ts"]
ignore_tables = []                  # regexes of table names to leave out
*/
with tbls as (
  select c.oid, c.relname::text as name
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace nsp on nsp.oid = c.relnamespace
  where c.relkind in ('r', 'p') and not c.relispartition
    and nsp.nspname = any(%(schemas)s::name[])
    and not exists (select 1 from unnest(%(ignore_tables)s::text[]) p(re) where c.relname ~ p.re)
    and not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
        and d.refclassid = 'pg_catalog.pg_extension'::regclass)
), cols as materialized (
  -- per-table index range scans: cheaper than hashing every pg_attribute row
  select t.oid, a.attnum, a.attname::text as name
  from tbls t
  cross join lateral (select a.attnum, a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped offset 0) a
), styled as (
  select 'table' as kind, t.oid, 0::int2 as attnum, t.name,
         case when t.name ~ '^_?[a-z][a-z0-9]*$' then 'lower'
              when t.name ~ '^_?[a-z][a-z0-9]*(_[a-z0-9]+)+_?$' then 'snake_case'
              when t.name ~ '^_?[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$' then 'camelCase'
              when t.name ~ '^_?[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$' then 'PascalCase'
              when t.name ~ '^_?[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_?$' then 'UPPER_SNAKE'
              else 'other' end as style
  from tbls t
  union all
  select 'column', c.oid, c.attnum, c.name,
         case when c.name ~ '^_?[a-z][a-z0-9]*_?$' then 'lower'
              when c.name ~ '^_?[a-z][a-z0-9]*(_[a-z0-9]+)+_?$' then 'snake_case'
              when c.name ~ '^_?[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$' then 'camelCase'
              when c.name ~ '^_?[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$' then 'PascalCase'
              when c.name ~ '^_?[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_?$' then 'UPPER_SNAKE'
              else 'other' end
  from cols c
), style_counts as (
  select kind, style, count(*) as n from styled group by kind, style
), dominant_style as (
  -- 'lower' (one word) fits snake_case and camelCase; with neither present the database is snake_case
  select k.kind, coalesce(
           (select s.style from style_counts s
            where s.kind = k.kind and s.style in ('snake_case', 'camelCase', 'PascalCase', 'UPPER_SNAKE')
            order by s.n desc, s.style = 'snake_case' desc limit 1), 'snake_case') as style,
         (select sum(n) from style_counts s where s.kind = k.kind) as total
  from (values ('table'), ('column')) k(kind)
), style_share as (
  select d.kind, d.style, d.total,
         coalesce((select sum(n) from style_counts s where s.kind = d.kind
                   and (s.style = d.style or (s.style = 'lower' and d.style in ('snake_case', 'camelCase')))), 0) as fitting
  from dominant_style d
), words as materialized (     -- computed once, not once per reference below
  -- the last word of a table name decides its grammatical number
  select t.oid, t.name,
         lower(coalesce(substring(regexp_replace(t.name, '([a-z0-9])([A-Z])', '\1_\2', 'g') from '([A-Za-z0-9]+)_?$'), t.name)) as last_word
  from tbls t
), numbered as (
  select w.*,
         case when w.last_word = any(%(number_neutral_words)s::text[]) then null
              when w.last_word = any(%(singular_s_words)s::text[]) or length(w.last_word) <= 2
                   or w.last_word ~ '(ss|us|is)$' then 'singular'
              when w.last_word ~ '(people|children|men|women|criteria|indices|matrices)$' then 'plural'
              when w.last_word ~ '[a-z]s$' then 'plural'
              else 'singular' end as number
  from words w
), number_share as (
  select (array_agg(number order by n desc, number))[1] as number, max(n) as fitting, sum(n) as total
  from (select number, count(*) as n from numbered where number is not null group by number) x
), fk_cols as (
  select f.oid, f.attnum, f.name, f.name ~ '(_id|_ID|Id|ID)_?$' as has_suffix
  from (
    -- the key columns from cols (hash joins, no lookup per foreign key); a referenced table
    -- outside the scope is looked up; the name tests run on the key columns only (offset 0)
    select con.conrelid as oid, a.attnum, a.name,
           coalesce(rc.name, (select ra.attname::text from pg_catalog.pg_attribute ra
                              where ra.attrelid = con.confrelid and ra.attnum = con.confkey[1])) as ref_name
    from pg_catalog.pg_constraint con
    join cols a on a.oid = con.conrelid and a.attnum = con.conkey[1]
    left join cols rc on rc.oid = con.confrelid and rc.attnum = con.confkey[1]
    where con.contype = 'f' and cardinality(con.conkey) = 1
    offset 0
  ) f
  where f.ref_name ~* '^id_?$|_id_?$|[a-z]Id$'            -- natural-key FKs (code, iso) are not expected to end in _id
    and f.name !~* %(fk_name_exceptions)s
), fk_share as (
  select count(*) filter (where has_suffix) as fitting, count(*) as total from fk_cols
), outliers as (
  select s.oid, s.attnum, s.name,
         format('%%s %%I is %%s (dominant: %%s)', s.kind, s.name, s.style, ss.style) as why
  from styled s join style_share ss on ss.kind = s.kind
  where ss.fitting >= %(min_dominance)s * ss.total
    and not (s.style = ss.style or (s.style = 'lower' and ss.style in ('snake_case', 'camelCase')))
  union all
  select n.oid, 0::int2, n.name, format('table %%I is %%s (dominant: %%s table names, %%s of %%s)', n.name, n.number, ns.number, ns.fitting, ns.total)
  from numbered n cross join number_share ns
  where n.number is not null and n.number <> ns.number and ns.fitting >= %(min_dominance)s * ns.total
  union all
  select f.oid, f.attnum, f.name, format('foreign key column %%I has no _id suffix (%%s of %%s foreign key columns have one)', f.name, fs.fitting, fs.total)
  from fk_cols f cross join fk_share fs
  where not f.has_suffix and fs.fitting >= %(min_dominance)s * fs.total
), summary as (
  select (select total from style_share where kind = 'table') as tables,
         (select total from style_share where kind = 'column') as columns,
         (select style from style_share where kind = 'table') as table_style,
         (select style from style_share where kind = 'column') as column_style,
         (select fitting from style_share where kind = 'table') as tables_fitting,
         (select fitting from style_share where kind = 'column') as columns_fitting,
         ns.number, ns.fitting as number_fitting, ns.total as number_total,
         fs.fitting as fk_fitting, fs.total as fk_total
  from number_share ns cross join fk_share fs
)
select o.oid::regclass::text as object,
       'table' as object_type,
       null::text as severity,
       coalesce(array_agg(o.name order by o.attnum) filter (where o.attnum > 0), '{}') as columns,
       jsonb_build_object('outliers', string_agg(o.why, '; ' order by o.attnum, o.why),
                          'table_style', s.table_style, 'column_style', s.column_style,
                          'table_number', s.number,
                          'min_dominance', %(min_dominance)s) as evidence,
       null::text as detail
from outliers o cross join summary s
group by o.oid, s.table_style, s.column_style, s.number
union all
select quote_ident(current_database()), 'database', 'ok', null,
       to_jsonb(s),
       format('Consistent %%s naming across %%s tables and %%s columns%%s%%s', s.column_style, s.tables, s.columns,
              case when s.number is not null and s.number_fitting >= %(min_dominance)s * s.number_total
                   then format(', %%s table names (%%s of %%s)', s.number, s.number_fitting, s.number_total)
                   when s.number is not null
                   then format(', no dominant plural/singular table naming (%%s of %%s %%s)', s.number_fitting, s.number_total, s.number) end,
              case when s.fk_total > 0 then format(', _id suffix on %%s of %%s foreign key columns', s.fk_fitting, s.fk_total) end)
from summary s
where s.tables > 0 and not exists (select 1 from outliers)
order by 1
