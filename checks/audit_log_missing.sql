/* pgaudit
id = "audit_log_missing"
title = "No change log"
section = "6.3"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Databases with no record of data changes: no pgAudit extension (installed, or loaded through shared_preload_libraries as seen in the audit role's settings) and no table in scope named like a change log (audit_log(s), *_audit, logged_actions, versions, history, change_log …; <entity>_versions/_revisions/_history only with an actor or change column such as updater_id, whodunnit, object_changes, old_values). A change-log table counts as trigger-fed when some trigger on another table calls a function whose source contains INSERT INTO that table (an approximation: the function is not parsed, and dynamic SQL is not seen); one that no trigger feeds is reported as application-maintained, which the 🟢 line says. Each 🟢 line names what was found."
why = "Without a change log, questions like \"who changed this price, and what was it before?\" or \"which rows did that bad deploy touch?\" have no answer; compliance regimes (SOX, PCI DSS, HIPAA) require one for financial and personal data, and point-in-time recovery only restores everything, not the story."
example = "-- payments, users and roles are updated in place; nothing records the previous values or who changed them"
fix = "create extension pgaudit;  -- with shared_preload_libraries = 'pgaudit' and pgaudit.log = 'write, ddl'; or an audit_logs table fed by row triggers"
ignore_when = "Changes are captured outside the database (event sourcing, CDC into a warehouse with history, an application audit service) and that capture is complete, including manual SQL sessions."
references = [
  "https://www.pgaudit.org/",
  "https://www.postgresql.org/docs/current/plpgsql-trigger.html",
  "https://wiki.postgresql.org/wiki/Audit_trigger_91plus",
]
ok = "Changes are logged"
impact = "Compliance and debugging: who changed what, and the previous values, cannot be reconstructed."
message = "{object} has no change log: no table named like an audit log or history in scope, and pgAudit is {_pgaudit_state}"
ok_message = "Change log: {_found}"
remediation = "Either install pgAudit (shared_preload_libraries = 'pgaudit', restart, CREATE EXTENSION pgaudit, set pgaudit.log = 'write, ddl') for a statement log in the server log, or create a change-log table fed by row triggers on the critical tables (the SQL creates audit_logs, a SECURITY DEFINER trigger function with a pinned search_path, and triggers on tables whose names look critical). Row triggers add a write per changed row: put them on the tables that matter, and plan retention for the log."

[severity]
default = "warning"
ok = ["pgaudit_installed", "pgaudit_preloaded", "audit_tables > 0"]

[params]
# normalized table names that are a change log by name alone
audit_table_pattern = '(^|_)(audit|audits|audit_log|audit_logs|audit_trail|audit_trails|auditlog|audit_events|change_log|change_logs|changelog|logged_actions|activity_log|activity_logs)$|^(versions|history|histories|edits?|revisions)$'
# <entity>_versions / _revisions / _history: a change log only with an actor or change column
# (quote_versions or e2e_room_keys_versions are business objects, post_versions with updater_id is history)
versioned_table_pattern = '_(versions|revisions|history|histories)$'
change_column_pattern = '^(updater|changed_by|modified_by|updated_by|whodunnit|editor|actor|changer|performed_by)(_id|_user_id)?$|^(object_changes|changes|changeset|old_values|new_values|old_data|new_data|old_row|new_row|row_data|changed_fields|diff|action|operation|op|tg_op)$'
# tables that get a trigger in the suggested SQL
critical_table_pattern = '(^|_)(payments?|invoices?|ledgers?|transactions?|transfers?|balances?|credits?|wallets?|orders?|refunds?|charges?|subscriptions?|payouts?|accounts?|users?|roles?|permissions?|grants?|prices?)$'
*/
with rels as (
  select c.oid, c.relname, lower(regexp_replace(c.relname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) as tnorm
  from scope_tables c
  where not c.relispartition
), audit_tables as (
  select r.*,
         (select count(distinct t.tgrelid)
          from pg_catalog.pg_trigger t
          join pg_catalog.pg_proc p on p.oid = t.tgfoid
          where not t.tgisinternal and t.tgrelid <> r.oid
            and t.tgrelid in (select oid from rels)
            -- the function inserts into it: insert into [schema.]name (dynamic SQL is not seen)
            and p.prosrc ~* ('insert\s+into\s+([^\s(]+\.)?"?'
                             || regexp_replace(r.relname, '([^a-zA-Z0-9_])', '\\\1', 'g')
                             || '"?(\s|\(|;|$)')) as fed_tables
  from rels r
  where r.tnorm ~ %(audit_table_pattern)s
     or (r.tnorm ~ %(versioned_table_pattern)s
         and exists (select 1 from pg_catalog.pg_attribute a
                     where a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
                       and lower(regexp_replace(a.attname, '([a-z0-9])([A-Z])', '\1_\2', 'g')) ~ %(change_column_pattern)s))
), pgaudit as (
  select x.*, coalesce(x.preload, '') ~ '(^|[, ])pgaudit($|[, ])' as preloaded
  from (select exists (select 1 from pg_catalog.pg_extension where extname = 'pgaudit') as installed,
               (%(session_settings)s::jsonb -> 'shared_preload_libraries' ->> 'setting') as preload) x
), target as (
  select case when 'public' = any(%(schemas)s::text[]) then 'public' else (%(schemas)s::text[])[1] end as nsp
), critical as (
  -- the first 25 critical tables spelled out; a catalog of thousands (a schema per tenant) gets
  -- a count, not a remediation of tens of thousands of lines
  select string_agg(format('create trigger audit_logs_capture after insert or update or delete on %%s
  for each row execute function %%I.audit_logs_capture();', r.name, (select nsp from target)),
                    E'\n' order by r.name) filter (where r.rn <= 25)
         || case when count(*) > 25
                 then format(E'\n-- … and %%s more tables whose names look critical (%%s in all): the same trigger on each',
                             count(*) - 25, count(*)) else '' end as triggers
  from (select r.oid::regclass::text as name, row_number() over (order by r.oid::regclass::text) as rn
        from rels r
        where r.tnorm ~ %(critical_table_pattern)s) r
)
-- one row: what records changes (rated ok), or the suggested change log
select quote_ident(current_database()) as object,
       'database' as object_type,
       pa.installed as pgaudit_installed,
       pa.preloaded as pgaudit_preloaded,
       pa.preload as shared_preload_libraries,
       count(a.oid) as audit_tables,
       count(a.oid) filter (where a.fed_tables > 0) as trigger_fed,
       case when pa.preload is null then 'not installed (shared_preload_libraries is not visible to this role)'
            else 'neither installed nor preloaded' end as _pgaudit_state,
       concat_ws('; ',
         case when pa.installed then 'the pgAudit extension is installed'
              when pa.preloaded then 'pgAudit is loaded (shared_preload_libraries)' end,
         string_agg(format('%%s (fed by triggers on %%s table%%s)', a.oid::regclass, a.fed_tables,
                           case when a.fed_tables = 1 then '' else 's' end), ', ' order by a.oid::regclass::text)
           filter (where a.fed_tables > 0),
         string_agg(a.oid::regclass::text, ', ' order by a.oid::regclass::text) filter (where a.fed_tables = 0)
           || format(', maintained by the application (no trigger feeds %%s, so changes made with direct SQL are not recorded)',
                     case when count(*) filter (where a.fed_tables = 0) = 1 then 'it' else 'them' end)) as _found,
       case when not (pa.installed or pa.preloaded) and count(a.oid) = 0 then format($sql$create table %%1$I.audit_logs (
  id bigint generated always as identity primary key,
  table_name text not null,
  record_id text,
  action text not null check (action in ('INSERT', 'UPDATE', 'DELETE')),
  old_values jsonb,
  new_values jsonb,
  changed_by text not null,
  app_user text,
  changed_at timestamptz not null default now()
);
create index audit_logs_table_record_idx on %%1$I.audit_logs (table_name, record_id);
create function %%1$I.audit_logs_capture() returns trigger
  language plpgsql security definer set search_path = pg_catalog, pg_temp
as $fn$
begin
  insert into %%1$I.audit_logs (table_name, record_id, action, old_values, new_values, changed_by, app_user)
  values (format('%%%%I.%%%%I', tg_table_schema, tg_table_name),
          coalesce(to_jsonb(new) ->> 'id', to_jsonb(old) ->> 'id'),
          tg_op,
          case when tg_op <> 'INSERT' then to_jsonb(old) end,
          case when tg_op <> 'DELETE' then to_jsonb(new) end,
          session_user,
          current_setting('app.current_user_id', true));
  return null;
end
$fn$;
revoke all on function %%1$I.audit_logs_capture() from public;
%%2$s$sql$,
              (select nsp from target),
              coalesce(cr.triggers,
                       format('-- attach it to the tables whose changes matter, e.g.:
-- create trigger audit_logs_capture after insert or update or delete on %%I.<table>
--   for each row execute function %%I.audit_logs_capture();', (select nsp from target), (select nsp from target))))
       end as remediation
from pgaudit pa
cross join critical cr
left join audit_tables a on true
group by pa.installed, pa.preload, pa.preloaded, cr.triggers
order by 1
