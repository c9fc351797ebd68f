/* pgaudit
id = "schema_drift"
title = "Schema changed since the previous run"
section = "5.3"
format = 2
uses = ["scope_schemas"]
severity = "info"
needs = ["catalog", "history"]
# its rows are the run's change log ("Changes since the last audit"), not findings
change_log = true
detects = "Tables (columns, types, defaults, NOT NULL), indexes, constraints, views, sequences, triggers, functions and types of the audited schemas added, dropped or altered since the previous stored run: the current snapshot (checks/_schema_snapshot.sql, embedded verbatim) against the {identity: md5 of definition} map the previous run stored under history.schema. Partitions follow their parent and are not listed. Its rows are the run's change log, shown under \"Changes since the last audit\" and stored as events of the run: a change is never a new finding, nor resolved by the next run. A change that breaks something (a dropped index a foreign key needed, a dropped constraint) is reported by the check that judges it."
why = "Changes that did not come through the migration pipeline (a hotfix in psql, an index created by hand during an incident) make environments diverge: the next migration fails or silently runs against a different schema, and nobody can rebuild production from the repository."
example = "-- during an incident: create index concurrently orders_status_idx on orders (status);  (never added to a migration)"
fix = "Compare each change with the migrations deployed since the previous run; write a migration for every manual change (or revert it) so the repository describes the schema again."
ignore_when = "The changes are the migrations you deployed between the two runs: this check then documents them."
references = ["https://www.postgresql.org/docs/current/ddl-alter.html", "https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-CATALOG-TABLE"]
ok = "Schema unchanged since the previous run"
impact = "Schema changes outside the migration history: environments diverge and the next migration may fail."
message = "{identity} {change} since the previous run"
remediation = "Check that every change listed comes from a migration deployed since the previous run; capture the others in a migration (or revert them)."

[labels]
identity = "Object"
previous_md5 = "Previous definition (md5)"
current_md5 = "Current definition (md5)"
*/
with snap as (
-- pgaudit:include _schema_snapshot.sql
), prev as (
  select p.key as identity, p.value as definition_md5
  from jsonb_each_text(coalesce(%(history)s::jsonb -> 'schema', '{}'::jsonb)) p
), diff as (
  select coalesce(s.identity, p.identity) as identity,
         case when p.identity is null then 'added' when s.identity is null then 'dropped'
              else 'altered' end as change,
         p.definition_md5 as previous_md5, s.definition_md5 as current_md5
  from snap s
  full join prev p on p.identity = s.identity
  where s.identity is null or p.identity is null or s.definition_md5 <> p.definition_md5
)
select substr(d.identity, strpos(d.identity, ' ') + 1) as object,
       split_part(d.identity, ' ', 1) as object_type,
       d.change, d.identity, d.previous_md5, d.current_md5,
       null::text as remediation,
       -- not a statistics window: the engine cannot know whether the stored run kept a snapshot
       null::text as no_verdict
from diff d
where jsonb_typeof(%(history)s::jsonb -> 'schema') = 'object'
union all
select null, null, null, null, null, null, null,
       'the previous run stored no schema snapshot (history.schema): nothing to compare with yet'
where jsonb_typeof(%(history)s::jsonb -> 'schema') is distinct from 'object'
order by 1, 2
