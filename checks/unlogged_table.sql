/* pgaudit
id = "unlogged_table"
title = "Unlogged tables: emptied by a crash, empty on standbys"
section = "5.2"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
detects = "Tables created UNLOGGED (or switched with ALTER TABLE ... SET UNLOGGED), partitions included: each partition carries its own persistence and is reported on its own. A warning when the table holds rows (estimated from pg_class: reltuples, or relpages where it was never analyzed), info when it is empty. Critical when it holds rows and a streaming replica is connected (pg_stat_replication): the replica that would be promoted at failover has none of those rows, so a failover loses them all, with the replica as evidence."
why = "An unlogged table skips the write-ahead log. That makes writes faster, and it has three costs that are easy to forget once the table holds real data: after a crash or an immediate shutdown the table is truncated to empty on restart; its contents are never sent to streaming standbys (they only have the empty table) nor to logical replicas; and a point-in-time recovery or a backup restored from WAL brings it back empty. Tables made unlogged for a bulk load and never switched back, and caches that quietly became the only copy of some data, are the usual cases."
example = "create unlogged table sessions (id uuid primary key, user_id bigint, data jsonb);"
fix = "alter table sessions set logged;  -- rewrites the table and writes it all to WAL, under an ACCESS EXCLUSIVE lock"
ignore_when = "The table holds data that can be rebuilt at any time (a cache, a staging table truncated after each load, a materialised result recomputed by a job) and every reader tolerates finding it empty after a crash or on a standby."
references = ["https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-UNLOGGED", "https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-SET-LOGGED-UNLOGGED", "https://www.postgresql.org/docs/current/warm-standby.html"]
ok = "Every table is WAL-logged: none is emptied by a crash or missing on standbys"
impact = "A crash truncates the table to empty; standbys and restores from WAL have it empty; a failover loses its rows."
message = "{object}: unlogged, {_rows_said}; a crash empties it and standbys do not have its rows"
remediation = "If the rows matter, make the table logged: ALTER TABLE ... SET LOGGED rewrites it and writes it all to WAL, holding an ACCESS EXCLUSIVE lock for the duration, so run it in a maintenance window on large tables. If the rows do not matter (a cache or a staging table), document it and make sure every reader copes with an empty table."

[severity]
default = "warning"
# rows only this server has: the replica promoted at failover has the table empty
critical = ["has_rows and streaming_replicas > 0"]
info = ["not has_rows"]

[labels]
has_rows = "Holds rows"
pages = "Heap pages"
streaming_replicas = "Streaming replicas connected"
*/
with repl as (
  select count(*) as n from pg_catalog.pg_stat_replication r where r.state = 'streaming'
)
select t.oid::regclass::text as object,
       'table' as object_type,
       case when c.reltuples > 0 then c.reltuples::bigint end as estimated_rows,
       c.relpages as pages,
       (c.reltuples > 0 or (c.reltuples < 0 and c.relpages > 0)) as has_rows,
       case when c.reltuples > 0 then format('holding about %%s rows', c.reltuples::bigint)
            when c.reltuples < 0 and c.relpages > 0 then format('holding %%s pages (never analyzed)', c.relpages)
            else 'empty' end as _rows_said,
       repl.n as streaming_replicas,
       format(E'-- rewrites the table and writes it all to WAL, under an ACCESS EXCLUSIVE lock\nalter table %%s set logged;',
              t.oid::regclass) as remediation
from scope_tables t
join pg_catalog.pg_class c on c.oid = t.oid
cross join repl
where c.relpersistence = 'u' and c.relkind = 'r'
order by 1
