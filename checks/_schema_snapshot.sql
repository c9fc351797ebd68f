-- The schema snapshot: one row per object in the audited schemas, (identity, kind, definition_md5).
-- identity is "<kind> <name as SQL writes it>"; partitions, their indexes, constraints and triggers
-- are left out (they follow the parent), and so are extension-owned objects. schema_drift includes
-- this file (-- pgaudit:include), and the history store records its rows as
-- {"schema": {identity: definition_md5}}.
-- Its scope is checks/_lib/scope_schemas.sql: schema_drift lists it in `uses`, and
-- pgaudit/snapshot.py, which runs this file on its own, puts it in front the same way. The
-- identities and hashes it produces must stay those earlier runs stored.
with ext as (
  select d.classid, d.objid from pg_catalog.pg_depend d where d.deptype = 'e'
), nsp as (
  select s.oid from scope_schemas s
), rel as (
  select c.oid, c.relkind, c.relname
  from pg_catalog.pg_class c
  where c.relnamespace in (select oid from nsp) and not c.relispartition
    and c.relkind in ('r', 'p', 'f', 'v', 'm', 'S', 'c')
    and (c.relkind <> 'c' or exists (select 1 from pg_catalog.pg_type t where t.typrelid = c.oid and t.typtype = 'c'))
    and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_class'::regclass and ext.objid = c.oid)
), objects as (
  select case r.relkind when 'v' then 'view' when 'm' then 'materialized_view' when 'S' then 'sequence'
                        when 'c' then 'type' when 'f' then 'foreign_table' else 'table' end
           || ' ' || r.oid::regclass::text as identity,
         case r.relkind when 'v' then 'view' when 'm' then 'materialized_view' when 'S' then 'sequence'
                        when 'c' then 'type' when 'f' then 'foreign_table' else 'table' end as kind,
         case
           when r.relkind in ('v', 'm') then pg_catalog.pg_get_viewdef(r.oid)
           when r.relkind = 'S' then (select format('%%s start %%s increment %%s min %%s max %%s cycle %%s',
                                                    s.seqtypid::regtype, s.seqstart, s.seqincrement,
                                                    s.seqmin, s.seqmax, s.seqcycle)
                                      from pg_catalog.pg_sequence s where s.seqrelid = r.oid)
           else r.relkind::text || ':' || coalesce((
             select string_agg(format('%%I %%s%%s%%s%%s', a.attname,
                                      pg_catalog.format_type(a.atttypid, a.atttypmod),
                                      case when a.attnotnull then ' not null' else '' end,
                                      case when a.attidentity <> '' then ' identity ' || a.attidentity::text else '' end,
                                      coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')),
                               ', ' order by a.attnum)
             from pg_catalog.pg_attribute a
             left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
             where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped), '')
         end as definition
  from rel r
  union all
  select 'index ' || i.indexrelid::regclass::text, 'index', pg_catalog.pg_get_indexdef(i.indexrelid)
  from pg_catalog.pg_index i
  where i.indrelid in (select oid from rel)
  union all
  select format('constraint %%I on %%s', k.conname,
                coalesce(k.conrelid::regclass::text, k.contypid::regtype::text)),
         'constraint', k.contype::text || ':' || pg_catalog.pg_get_constraintdef(k.oid)
  from pg_catalog.pg_constraint k
  where ((k.conrelid in (select oid from rel) and k.conparentid = 0)
      or (k.contypid <> 0 and k.connamespace in (select oid from nsp)))
    -- NOT NULL is part of the column's or domain's definition above; PostgreSQL 18 (tables)
    -- and 17 (domains) also list it here as contype 'n', which would read as drift on upgrade
    and k.contype <> 'n'
  union all
  select format('trigger %%I on %%s', t.tgname, t.tgrelid::regclass), 'trigger',
         pg_catalog.pg_get_triggerdef(t.oid)
  from pg_catalog.pg_trigger t
  where t.tgrelid in (select oid from rel) and not t.tgisinternal
    and coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
  union all
  select 'function ' || p.oid::regprocedure::text, 'function',
         case when p.prokind = 'a' then 'aggregate ' || pg_catalog.pg_get_function_arguments(p.oid)
              else pg_catalog.pg_get_functiondef(p.oid) end
  from pg_catalog.pg_proc p
  where p.pronamespace in (select oid from nsp)
    and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_proc'::regclass and ext.objid = p.oid)
  union all
  select 'type ' || t.oid::regtype::text, 'type',
         t.typtype::text || ':' || case t.typtype
           when 'e' then (select string_agg(e.enumlabel::text, ',' order by e.enumsortorder)
                          from pg_catalog.pg_enum e where e.enumtypid = t.oid)
           when 'd' then pg_catalog.format_type(t.typbasetype, t.typtypmod)
                         || case when t.typnotnull then ' not null' else '' end
                         || coalesce(' default ' || t.typdefault, '')
           when 'r' then (select rngsubtype::regtype::text from pg_catalog.pg_range where rngtypid = t.oid)
           else '' end
  from pg_catalog.pg_type t
  where t.typnamespace in (select oid from nsp) and t.typtype in ('e', 'd', 'r')
    and not exists (select 1 from ext where ext.classid = 'pg_catalog.pg_type'::regclass and ext.objid = t.oid)
)
select o.identity, o.kind, md5(coalesce(o.definition, '')) as definition_md5
from objects o
order by o.identity
