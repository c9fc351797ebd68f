/* pgaudit
id = "soft_delete_unique_conflict"
title = "Unique constraints on soft-delete tables that count deleted rows"
section = "2.3"
format = 2
uses = ["scope_tables"]
severity = "warning"
needs = ["catalog"]
detects = "On tables with a soft-delete column (`deleted_at`, `is_deleted`…: `columns`), valid UNIQUE constraints and unique indexes (primary keys excluded, and unique keys that contain the whole primary key) that are not partial on live rows. Three shapes: the key ignores the soft-delete column, so a deleted row blocks re-creating the same value; the key includes a nullable `deleted_at`, so live rows (all NULL there) are never compared and duplicates among them are allowed; the key includes a boolean flag, so a value can be deleted only once."
why = "Soft delete keeps the row, and a plain unique key keeps counting it: a user who deletes their account cannot sign up again with the same e-mail, a deleted slug cannot be reused, and the application fails with a unique violation nobody can see the cause of. The usual workaround, adding deleted_at to the key, silently stops enforcing uniqueness among live rows because NULLs are distinct."
example = "create table users (id bigint primary key, email text not null unique, deleted_at timestamptz);"
fix = "create unique index concurrently users_email_live_key on users (email) where deleted_at is null;\nalter table users drop constraint users_email_key;"
ignore_when = "The value must stay unique forever, deleted or not (an invoice number, an external id), or deleted rows are anonymised so their values never collide."
references = ["https://www.postgresql.org/docs/current/indexes-partial.html", "https://www.postgresql.org/docs/current/indexes-unique.html", "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY"]
ok = "Unique keys on soft-delete tables apply to live rows only"
applies = '''exists (select 1 from scope_tables t join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped join pg_catalog.pg_type ty on ty.oid = a.atttypid where not t.relispartition and a.attname = any(%(columns)s::text[]) and not (a.attnotnull and ty.typcategory = 'D') and exists (select 1 from pg_catalog.pg_index i where i.indrelid = t.oid and i.indisunique and not i.indisprimary))'''
not_applicable = "no soft-delete table in scope has a unique key besides its primary key"
census = '''
exists (select 1 from census_columns c where c.attname = any(%(columns)s::text[]))'''
impact = "Re-creating a deleted value fails with a unique violation, or duplicates among live rows go unchecked."
message = "{object}: {unique_key} {problem} (soft-delete column {soft_delete_column}): {definition}"
remediation = "Create a partial unique index on the same key restricted to live rows with CREATE UNIQUE INDEX CONCURRENTLY (no write lock), then drop the old constraint or index (DROP CONSTRAINT takes a brief ACCESS EXCLUSIVE lock; a plain index is dropped CONCURRENTLY). Run the statements one by one, not in a transaction. A unique key that foreign keys reference cannot be partial: the SQL is not given then. ON CONFLICT clauses must name the new predicate (ON CONFLICT (email) WHERE deleted_at IS NULL)."

[labels]
soft_delete_column = "Soft-delete column"
referenced_by_foreign_key = "Referenced by a foreign key"
[params]
columns = ["deleted_at", "is_deleted", "archived_at", "discarded_at", "deleted", "removed_at"]
history_table_pattern = "(_versions?|_history|_histories|_audits?|_logs?|_snapshots?)$"
global_key_pattern = "(idempotency|request_id|dedup|nonce)"  # keys that must stay unique across deleted rows too (a replayed request must still collide)
*/
with soft as (
  select t.oid, t.relname, t.relkind, a.attnum, a.attname, a.atttypid, a.attnotnull, ty.typcategory, quote_ident(a.attname) as q,
         case when a.atttypid = 'bool'::regtype and a.attnotnull then format('not %%I', a.attname)
              when a.atttypid = 'bool'::regtype then format('%%I is not true', a.attname)
              when ty.typcategory = 'N' then format('%%I = 0', a.attname) else format('%%I is null', a.attname) end as live_pred
  from scope_tables t join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_type ty on ty.oid = a.atttypid
  -- pg_get_* functions open the table: skip tables locked by DDL (never queue behind it)
  where not t.relispartition and t.oid <> all(%(locked)s::oid[]) and a.attname = any(%(columns)s::text[])
    and not (a.attnotnull and ty.typcategory = 'D')     -- a NOT NULL deleted_at logs deletions
    and not (t.relname ~* %(history_table_pattern)s and exists (
      select 1 from pg_catalog.pg_class e
      join pg_catalog.pg_attribute ea on ea.attrelid = e.oid and ea.attname = a.attname and not ea.attisdropped
      where e.relnamespace = t.relnamespace and e.relkind in ('r', 'p') and e.oid <> t.oid
        and e.relname in (select regexp_replace(t.relname, %(history_table_pattern)s, '', 'i') || sfx from unnest(array['', 's', 'es']) sfx)))
), uniq as (
  select s.oid, s.relname, s.relkind, s.attnum, s.attname, s.atttypid, s.attnotnull, s.live_pred,
         i.indexrelid, i.indnkeyatts, i.indnatts, i.indpred, i.indrelid, (i.indkey::int2[])[0:i.indnkeyatts - 1] as keyatts,
         coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) as nulls_not_distinct,
         pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred, con.oid as con_oid, con.conname
  -- the column the fix filters on: the first soft-delete column
  from (select distinct on (oid) * from soft order by oid, array_position(%(columns)s::text[], attname::text)) s
  join pg_catalog.pg_index i on i.indrelid = s.oid
  left join pg_catalog.pg_constraint con on con.conindid = i.indexrelid and con.conrelid = s.oid and con.contype = 'u'
  where i.indisunique and not i.indisprimary and i.indisvalid
    -- idempotency and request keys are unique over every row on purpose
    and not exists (select 1 from unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) k(attnum)
                    join pg_catalog.pg_attribute ka on ka.attrelid = s.oid and ka.attnum = k.attnum
                    where ka.attname ~* %(global_key_pattern)s)
    -- a key containing the whole primary key never collides
    and not exists (select 1 from pg_catalog.pg_constraint pk
                    where pk.conrelid = s.oid and pk.contype = 'p' and pk.conkey <@ (i.indkey::int2[])[0:i.indnkeyatts - 1])
    -- partial on live rows of any soft-delete column: fine
    and not exists (select 1 from soft s2 cross join lateral (select pg_catalog.pg_get_expr(i.indpred, i.indrelid) as p) x
                    where s2.oid = s.oid and i.indpred is not null
                      and (select bool_or(strpos(x.p, live) > 0) from unnest(array[s2.q || ' IS NULL', 'NOT ' || s2.q, s2.q || ' = false',
                             s2.q || ' IS FALSE', s2.q || ' IS NOT TRUE', s2.q || ' <> true', s2.q || ' = 0']) live))
), shaped as (
  select u.*, sk.soft_in_key, sk.soft_in_key_flag,
         -- the new key: every key column but the soft-delete ones as the index writes them (collation, opclass, order)
         (select string_agg(pg_catalog.pg_get_indexdef(u.indexrelid, k.n::int, true)
                  || coalesce(' collate ' || (select format('%%I.%%I', cn.nspname, co.collname)
                                              from pg_catalog.pg_collation co join pg_catalog.pg_namespace cn on cn.oid = co.collnamespace
                                              where co.oid = ix.indcollation[k.n - 1]
                                                and co.oid <> coalesce((select a.attcollation from pg_catalog.pg_attribute a
                                                                        where a.attrelid = u.oid and a.attnum = u.keyatts[k.n]),
                                                                       'pg_catalog.default'::regcollation)), '')
                  || coalesce(' ' || (select format('%%I.%%I', opn.nspname, op.opcname)
                                      from pg_catalog.pg_opclass op join pg_catalog.pg_namespace opn on opn.oid = op.opcnamespace
                                      where op.oid = ix.indclass[k.n - 1] and not op.opcdefault), '')
                  || case when o & 1 = 1 then ' desc' else '' end
                  || case when o & 3 = 2 then ' nulls first' when o & 3 = 1 then ' nulls last' else '' end, ', ' order by k.n)
          from generate_series(1, u.indnkeyatts) k(n) join pg_catalog.pg_index ix on ix.indexrelid = u.indexrelid
          cross join lateral (select ix.indoption[k.n - 1]::int as o) opt
          where u.keyatts[k.n] = 0 or u.keyatts[k.n] not in (select sa.attnum from soft sa where sa.oid = u.oid)) as new_keys,
         (select string_agg(pg_catalog.pg_get_indexdef(u.indexrelid, k.n::int, true), ', ' order by k.n)
          from generate_series(u.indnkeyatts + 1, u.indnatts) k(n)) as include_cols,
         exists (select 1 from pg_catalog.pg_constraint f where f.contype = 'f' and f.conindid = u.indexrelid) as referenced_by_fk,
         array(select pg_catalog.pg_get_indexdef(u.indexrelid, k.n::int, true) from generate_series(1, u.indnkeyatts) k(n) order by k.n) as key_cols
  from uniq u
  left join lateral (select sa.attname as soft_in_key, sa.atttypid = 'bool'::regtype or sa.attnotnull as soft_in_key_flag
                     from soft sa where sa.oid = u.oid and sa.attnum = any(u.keyatts) order by sa.attnum limit 1) sk on true
)
select s.oid::regclass::text as object, 'table' as object_type, s.key_cols as columns, s.indexrelid::regclass::text as index,
       case when s.con_oid is not null then format('unique constraint %%I', s.conname)
            else format('unique index %%s', s.indexrelid::regclass) end as unique_key,
       pg_catalog.pg_get_indexdef(s.indexrelid) as definition, quote_ident(s.attname) as soft_delete_column,
       case when s.soft_in_key is null then 'ignores deleted rows' when s.soft_in_key_flag then 'flag in key'
            else 'nullable deleted_at in key' end as shape,
       case when s.soft_in_key is null then 'blocks re-creating values of deleted rows'
            when s.soft_in_key_flag then 'allows each value to be deleted only once' else 'does not enforce uniqueness among live rows' end as problem,
       s.referenced_by_fk as referenced_by_foreign_key,
       case when not s.referenced_by_fk and s.new_keys is not null then
         format(E'create unique index%%s %%I on %%s (%%s)%%s%%s where %%s;\n%%s', case when s.relkind = 'p' then '' else ' concurrently' end,
                -- the index name's first 57 bytes (whole characters): PostgreSQL truncates at 63
                (select left(min(c.relname), max(k)) from pg_catalog.pg_class c, generate_series(0, length(c.relname)) k
                 where c.oid = s.indexrelid and octet_length(left(c.relname, k)) <= 57) || '_live',
                s.oid::regclass, s.new_keys, coalesce(' include (' || s.include_cols || ')', ''),
                case when s.nulls_not_distinct then ' nulls not distinct' else '' end, coalesce('(' || s.pred || ') and ', '') || s.live_pred,
                case when s.con_oid is not null then format('alter table %%s drop constraint %%I;', s.oid::regclass, s.conname)
                     when s.relkind = 'p' then format('drop index %%s;', s.indexrelid::regclass)
                     else format('drop index concurrently %%s;', s.indexrelid::regclass) end) end as remediation
from shaped s
order by 1, 4
