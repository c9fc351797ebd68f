/* pgaudit
id = "invalid_index"
title = "Invalid indexes left by failed concurrent builds"
section = "3.1"
format = 2
uses = ["scope_relations"]
severity = "critical"
needs = ["catalog"]
detects = "Indexes marked invalid (pg_index.indisvalid = false) by a failed or cancelled CREATE INDEX CONCURRENTLY, and the *_ccnew / *_ccold leftovers of a failed REINDEX CONCURRENTLY. Not reported: an index whose concurrent build is running now (pg_stat_progress_create_index), and a partitioned index created ON ONLY the parent that is still waiting for its partitions' indexes to be attached."
why = "The planner never uses an invalid index, yet every write still maintains it (once it reached the ready phase): the cost of an index with none of the benefit. A failed unique build enforces nothing. Migrations written with CREATE INDEX IF NOT EXISTS then skip the rebuild silently, so the query the index was made for stays slow."
example = "create unique index concurrently users_email_key on users (email);  -- fails on duplicate e-mails and leaves an INVALID index"
fix = "reindex index concurrently users_email_key;  -- after removing the duplicates; or DROP INDEX CONCURRENTLY and CREATE INDEX CONCURRENTLY again"
ignore_when = "A CREATE INDEX CONCURRENTLY is running at this moment from a role whose progress rows this role cannot see."
references = ["https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY", "https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY", "https://www.postgresql.org/docs/current/progress-reporting.html#CREATE-INDEX-PROGRESS-REPORTING"]
ok = "No invalid indexes"
impact = "Queries that need the index run without it while every write still pays to maintain it; a failed unique index enforces nothing."
message = "{index} on {object} is invalid ({reason})"
remediation = "Rebuild the index with REINDEX INDEX CONCURRENTLY (or DROP INDEX CONCURRENTLY, then CREATE INDEX CONCURRENTLY with the definition in the evidence). A unique index that failed on duplicates needs the duplicates removed first. A *_ccnew / *_ccold leftover of REINDEX CONCURRENTLY is simply dropped: the original index is intact. A partitioned index marked invalid although every partition has an attached index gets no SQL: rebuild its invalid partition indexes (REINDEX INDEX CONCURRENTLY on each), then ALTER INDEX … ATTACH PARTITION or re-create the parent index."

[labels]
reason = "Why it is invalid"
maintained_on_writes = "Still maintained on writes"
*/
with inv as (
  select i.indexrelid, i.indrelid, ic.relname, ic.relkind as idx_kind, i.indisunique, i.indisready,
         ic.relpages,
         ic.relname ~ '_cc(new|old)[0-9]*$' as reindex_leftover,
         -- a partitioned index created ON ONLY the parent: partitions still to attach
         case when ic.relkind = 'I' then
           (select count(*) from pg_catalog.pg_inherits h where h.inhparent = i.indrelid)
           - (select count(*) from pg_catalog.pg_inherits h where h.inhparent = i.indexrelid)
         end as unattached
  from pg_catalog.pg_index i
  join pg_catalog.pg_class ic on ic.oid = i.indexrelid
  join scope_relations tc on tc.oid = i.indrelid
  where not i.indisvalid
    -- being built right now: CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY in progress
    and not exists (
      select 1 from pg_catalog.pg_stat_progress_create_index p
      where p.index_relid = i.indexrelid or (p.relid = i.indrelid and p.index_relid = 0))
)
select v.indrelid::regclass::text as object,
       'index' as object_type,
       v.indexrelid::regclass::text as index,
       array(select a.attname::text
             from pg_catalog.pg_index i
             cross join lateral unnest(i.indkey::int2[]) with ordinality k(attnum, ord)
             join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where i.indexrelid = v.indexrelid and k.ord <= i.indnkeyatts
             order by k.ord) as columns,
       case when v.reindex_leftover then 'leftover of a failed REINDEX CONCURRENTLY'
            when v.idx_kind = 'I' then 'partitioned index with an invalid partition index'
            when v.indisunique then 'failed or cancelled concurrent build of a unique index: it enforces nothing'
            else 'failed or cancelled concurrent build' end as reason,
       pg_catalog.pg_get_indexdef(v.indexrelid) as definition,
       v.indisunique as unique,
       v.indisready as maintained_on_writes,
       v.relpages as index_pages,
       case
         when v.idx_kind = 'I' then null
         when v.reindex_leftover then format('drop index concurrently %%s;', v.indexrelid::regclass)
         else format('reindex index concurrently %%s;', v.indexrelid::regclass)
       end as remediation
from inv v
where coalesce(v.unattached, 0) = 0
order by 1, 3
