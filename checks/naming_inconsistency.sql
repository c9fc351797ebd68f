/* pgaudit
id = "naming_inconsistency"
title = "Names outside the database's dominant naming convention"
section = "1.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Tables and columns whose names break the convention most of the database follows, computed from the catalog: letter case style (snake_case, camelCase, PascalCase, UPPER_SNAKE) separately for tables and for columns, plural vs singular table names, and the `_id` suffix on single-column foreign keys to an `id` key. A convention counts as dominant when at least `min_dominance` of the classified names follow it. One finding per table lists its outliers; a consistent database gets a 🟢 line with the numbers."
why = "Consistent names make SQL guessable: with one convention developers write `user_id` without looking it up, and tools that infer relationships from names (ORMs, ERD generators, pgaudit's own missing-FK check) work. Outliers cost a lookup or a bug on every query that touches them."
example = "create table users (id bigint primary key, created_at timestamptz); create table order (Id bigint primary key, userRef bigint references users);"
fix = "alter table \"order\" rename to orders; alter table orders rename column \"Id\" to id; alter table orders rename column \"userRef\" to user_id;"
ignore_when = "Legacy or third-party tables kept under their original names (add them to `ignore_tables`), or `*_by`/`*_to` style FKs chosen deliberately (the `fk_name_exceptions` pattern)."
references = ["https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS", "https://www.postgresql.org/docs/current/sql-altertable.html"]
ok = "Naming follows one convention"
ok_message = "Consistent {column_style} naming across {table_count} tables and {column_count} columns; {table_names} table names: {table_names_fitting} of {table_names_judged}; _id suffix on {fk_columns_with_id_suffix} of {fk_columns_to_id_keys} foreign key columns"
impact = "Low: developers must look names up, name-based tooling mis-infers relationships; no data at risk."
message = "{object}: {outliers}"
remediation = "Rename the outliers to the dominant convention (ALTER TABLE … RENAME [COLUMN] … TO …, brief lock, no rewrite) in the same deploy as the application change, or keep a compatibility view. No SQL is generated: the right new name (plural form, FK name) needs a human."

[params]
min_dominance = 0.8                 # share of names that makes a convention dominant
fk_name_exceptions = "(_by|_to|_from|^parent|^owner)$"   # FK column names that need no _id suffix
number_neutral_words = ["news", "data", "media", "metadata", "info", "staff", "series", "news", "species", "equipment", "information", "software", "feedback", "audio", "analytics", "settings", "history", "inventory", "stock"]
singular_s_words = ["alias", "canvas", "atlas", "bias", "gas", "lens", "chaos", "ethos", "corpus", "census", "bonus", "focus", "thesis", "summons", "canvas", "apparatus", "ts"]
ignore_tables = []                  # regexes of table names to leave out

[severity]
default = "info"
ok = ["_summary"]
*/
with tbls as (
  select c.oid, c.relname::text as name
  from scope_tables c
  where not c.relispartition
    and not exists (select 1 from unnest(%(ignore_tables)s::text[]) p(re) where c.relname ~ p.re)
), cols as materialized (
  -- per-table index range scans: cheaper than hashing every pg_attribute row
  select t.oid, a.attnum, a.attname::text as name
  from tbls t
  cross join lateral (select a.attnum, a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped offset 0) a
), styled as (
  select x.*,
         -- one word: 'lower' (a column may end in _)
         case when x.name ~ case x.kind when 'table' then '^_?[a-z][a-z0-9]*$' else '^_?[a-z][a-z0-9]*_?$' end then 'lower'
              when x.name ~ '^_?[a-z][a-z0-9]*(_[a-z0-9]+)+_?$' then 'snake_case'
              when x.name ~ '^_?[a-z][a-z0-9]*([A-Z][a-z0-9]*)+$' then 'camelCase'
              when x.name ~ '^_?[A-Z][a-z0-9]+([A-Z][a-z0-9]*)*$' then 'PascalCase'
              when x.name ~ '^_?[A-Z][A-Z0-9]*(_[A-Z0-9]+)*_?$' then 'UPPER_SNAKE'
              else 'other' end as style
  from (select 'table' as kind, t.oid, 0::int2 as attnum, t.name from tbls t
        union all
        select 'column', c.oid, c.attnum, c.name from cols c) x
), style_counts as (
  select kind, style, count(*) as n from styled group by kind, style
), style_share as (
  -- 'lower' (one word) fits snake_case and camelCase; with neither present the database is snake_case
  select k.kind, d.style, (select sum(n) from style_counts s where s.kind = k.kind)::bigint as total,
         coalesce((select sum(n) from style_counts s where s.kind = k.kind
                   and (s.style = d.style or (s.style = 'lower' and d.style in ('snake_case', 'camelCase')))), 0)::bigint as fitting
  from (values ('table'), ('column')) k(kind)
  cross join lateral (
    select coalesce((select s.style from style_counts s
                     where s.kind = k.kind and s.style in ('snake_case', 'camelCase', 'PascalCase', 'UPPER_SNAKE')
                     order by s.n desc, s.style = 'snake_case' desc limit 1), 'snake_case') as style) d
), numbered as (
  select t.oid, t.name,
         case when w.last_word = any(%(number_neutral_words)s::text[]) then null
              when w.last_word = any(%(singular_s_words)s::text[]) or length(w.last_word) <= 2
                   or w.last_word ~ '(ss|us|is)$' then 'singular'
              when w.last_word ~ '(people|children|men|women|criteria|indices|matrices)$' then 'plural'
              when w.last_word ~ '[a-z]s$' then 'plural'
              else 'singular' end as number
  from tbls t
  -- the last word of a table name decides its grammatical number (offset 0: computed once per
  -- table, not once per reference above)
  cross join lateral (select lower(coalesce(substring(regexp_replace(t.name, '([a-z0-9])([A-Z])', '\1_\2', 'g')
                                                     from '([A-Za-z0-9]+)_?$'), t.name)) as last_word offset 0) w
), number_share as (
  select (array_agg(number order by n desc, number))[1] as number, max(n) as fitting, sum(n)::bigint as total
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
), facts as (
  select o.oid as _relid, coalesce(array_agg(o.name order by o.attnum) filter (where o.attnum > 0), '{}') as columns,
         string_agg(o.why, '; ' order by o.attnum, o.why) as outliers
  from outliers o group by o.oid
), summary as (     -- the conventions found: the 🟢 line's facts, and each finding's context
  select t.total as table_count, c.total as column_count, t.style as table_style, c.style as column_style,
         t.fitting as tables_fitting, c.fitting as columns_fitting, ns.number as table_names,
         ns.fitting as table_names_fitting, ns.total as table_names_judged,
         fs.fitting as fk_columns_with_id_suffix, fs.total as fk_columns_to_id_keys
  from style_share t, style_share c, number_share ns, fk_share fs
  where t.kind = 'table' and c.kind = 'column'
)
-- one row per table with outliers, or else the 🟢 summary
select coalesce(f._relid::regclass::text, quote_ident(current_database())) as object,
       case when f._relid is null then 'database' else 'table' end as object_type,
       f.*, s.*, f._relid is null as _summary
from summary s
left join facts f on true
where f._relid is not null or (s.table_count > 0 and not exists (select 1 from outliers))
order by 1
