/* pgaudit
id = "missing_foreign_key"
title = "Columns that reference another table's key without a foreign key"
section = "2.1"
format = 2
uses = ["scope_tables"]
needs = ["catalog"]
locks = true
detects = "Columns named after another table's key (user_id -> users.id, category_id -> categories.id, product_type_id -> product_types.id, customer_id -> customer.customer_id; singular, -s, -es, -ies and a few irregular plurals; camelCase userId) whose type is in the same family as that key (uuid, int2/int4/int8, text/varchar/char) and which no foreign key constraint (validated or NOT VALID) includes. Names are compared without regard to case and underscores, an exact name first (userId -> \"User\", \"Mixed_id\" -> \"Mixeds\", product_type_id -> \"ProductTypes\"); the rest of the name may name the key (language_code -> languages.code, Flowable's deployment_id_ -> id_). When the plain name designates no table: the child table's own leading words (module prefixes: runner_id in ci_running_builds -> ci_runners, node_id in current_way_nodes -> current_nodes); a partitioned table named `p_<name>` (`partitioned_prefixes`: build_id -> p_ci_builds); a first word such as origin_, original_, source_, target_, parent_, from_, previous_ (`stripped_prefixes`) stripped (origin_project_id -> projects, original_language_id -> language.language_id, from_user_id -> users, parent_group_id in groups -> groups itself); parent_id, root_id and parent (`self_columns`) to the table's own key, unless the schema's parent_id columns reference other tables (a chain t1.parent_id -> t0); an integer or uuid column named only like a table (`bare_names`: musicbrainz's artist, link; release_group.type -> release_group_type; destination -> destinations.destination; numbered, tag1 and tag2 -> tag). Some references are told by the table's structure rather than the column's name: the two positional columns (entity0/entity1, left_x/right_x, together in one unique key) of a link table named after two tables behind at most one first word (`link_columns`: l_artist_release.entity0 -> artist, entity1 -> release; l_area_area: area twice); the key of a 1:1 extension table (`extension_keys`: an id column without a default of its own, in the primary key, of a table whose leading words name a table whose key generates its values, and with no other column named after it: artist_meta.id -> artist.id, documentation.l_area_artist_example.id -> l_area_artist.id); a qualifier alone (new_id: a `stripped_prefixes` word) names the same table (artist_gid_redirect.new_id -> artist). Actor columns (read_by, approved_by_id, resolved_by: `actor_patterns`) and role names (owner_id, author_id, creator_id, updater_id, assignee_id, reporter_id, approver_id, sender_id, recipient_id, resource_owner_id, ownerId: `actor_roles`) reference the user table when no table is named after them: `actor_tables` (users, user) by name, `actor_tables_referenced` (accounts, members) only when real foreign keys reference them, a referenced one first; not beside a text <name>_type column (owner_type: a Rails polymorphic association, several tables). The audit stamps created_by, updated_by, deleted_by (and created_by_id, updated_by_id: `actor_ignore`) usually stay unconstrained so they outlive the user and are never reported, nor names of an ordering or another row (grouped_by, replaced_by). The referenced table is looked up in the column's own schema first, then in the other audited schemas; the referenced key is that table's single-column primary key or unique key named `id` (`key_names`), like the column or like the rest of its name. A two-column key is referenced by a composite foreign key: a partitioned parent's (id, partition_id), whose key must include the partition key, or a key whose other column the child has and which is a reference itself (tenant_id, user_id); the fix names both columns, and where the child lacks a partitioned parent's partition column the finding says why no foreign key is possible yet. A bare column a CHECK constraint restricts to a list of values (vote in (-1, 0, 1)) is an enumeration, not a reference. A partitioned table is judged once, at the parent: covered when every partition has its own foreign key on the column (one without partitions is judged like a plain table). A name is only a hint, so a finding is critical only when something corroborates it, and the reference is not soft by design (a schema that declares no foreign key at all, such as a dump or cache schema, or a table that is the column alone, a queue of keys to process, or one that keeps a copy of its parent's label, last_seen_name beside collection, stays a warning that says so): the same relationship is constrained elsewhere (another table has a real foreign key from a column of the same name to that key; for an actor column, any foreign key into the user table's key; for parent_id, another table's self-reference by that name), or a bounded probe (the first `sample_rows` non-null values, each looked up through the key's index) finds orphans. Otherwise it is a warning saying what to verify. The probe also measures the share of sampled values present in the candidate parent: below `min_found_share`, and with no foreign key elsewhere to vouch for it, the column is not a reference and is dropped. At most `probed_candidates` columns are probed (uncorroborated ones first, within the lock budget; not into partitioned parents or two-column keys); under --no-data, or on tables the role cannot read, the catalog verdict stands. One column name without its foreign key on `pattern_min_tables` tables or more is ONE finding about a design choice, on the referenced table, listing the tables: critical when other tables do declare that foreign key (the rest are gaps), a warning when none does (deliberate). Values a CHECK constraint singles out in the column (user_id = 0 or ..., user_id <> -1) are sentinels: the fix maps them to NULL before the constraint is validated. A column already in a foreign key is never reported here (a type difference there is foreign_key_type_mismatch's): one column, one check. Inference cannot see references whose name spells no table and no role and whose table's structure says nothing either (from_id/to_id, proc_inst_id_ -> act_ru_execution, exception_stack_id_ -> act_ge_bytearray, musicbrainz's editor under role names: voter, proposer): review those by hand; scripts/fk_recall.py measures recall and precision on the corpus (docs/corpus-findings.md)."
why = "Without the constraint nothing stops a row from pointing at a parent that never existed or was deleted: orphaned rows accumulate silently, joins drop or duplicate data, and ON DELETE rules (CASCADE, SET NULL, RESTRICT) the application relies on never run. ORMs such as TypeORM only create the constraint when the relation is declared, so plain id columns slip through."
example = "create table generated_images (id uuid primary key, user_id uuid);  -- users(id) exists, no constraint"
fix = "alter table generated_images add constraint generated_images_user_id_fkey foreign key (user_id) references users (id) not valid;\nalter table generated_images validate constraint generated_images_user_id_fkey;"
ignore_when = "The column holds an identifier from another system that merely shares a name with a local table (an external/provider id), the reference is intentionally soft (event logs, history and dead-letter tables that must outlive their parents, sharded or cross-database data), or the rows live in a different database. A pattern reported as deliberate (no table declares the key) is a design decision: waive it once, with the reason. Guesses to check by hand: a stripped name that lands on the table itself (Flowable's parent_deployment_id_ names another engine's deployment). A versions table's parent_id that copies its source row's (post_versions.parent_id, beside post_id, where posts.parent_id references posts) is not taken for a self-reference. A role column (owner_id, creator_id) of a schema whose people live in a table named otherwise than users/user, or in accounts/members no foreign key references yet, is not seen: add the table to `actor_tables`."
references = ["https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK", "https://www.postgresql.org/docs/current/sql-altertable.html"]
ok = "Every column named after another table's key is covered by a foreign key"
impact = "Orphaned rows and silent referential corruption; ON DELETE rules never fire."
message = "{_subject} looks like a reference to {referenced}({referenced_column}) but {_gap}{_key_note}{_evidence}{_soft_note}{_sentinel_note}"
remediation = "Add the constraint NOT VALID first (takes only a brief SHARE ROW EXCLUSIVE lock on both tables and checks new rows at once), then VALIDATE CONSTRAINT, which scans the table under a lock that does not block reads or writes. VALIDATE fails if orphaned rows already exist: find them first (select ... where col is not null and not exists (select 1 from parent where parent.key = col)) and delete, repair or NULL them. A sentinel value (0 for 'anonymous') has no parent row: map it to NULL first and have the application write NULL, or insert a row with that key into the parent. Choose ON DELETE (RESTRICT, SET NULL, CASCADE) to match the relationship; the default is NO ACTION. Index the column too (see \"Foreign keys without an index on the referencing columns\", section 3.1). For a pattern, decide once: declare the key on every table listed, or document the choice and waive the finding."

[severity]
default = "warning"
# corroborated: the same foreign key declared elsewhere, or orphans in the sampled values
# (a reference soft by design, _soft, is corroborated by orphans only)
critical = ["same_fk_elsewhere > 0 and not _soft", "orphans_in_sample > 0"]

[labels]
matched_table_name = "Table name matched"
matched_by = "How the name matched"
referenced_key_columns = "Columns of the referenced key"
same_schema = "In the column's schema"
other_candidates = "Other candidate tables"
partitions_with_fk = "Partitions with their own foreign key"
same_fk_elsewhere = "Other tables declaring this foreign key"
tables = "Tables without the foreign key"
table_count = "Tables without the foreign key (count)"
sentinel_values = "Sentinel values (CHECK)"
sentinel_check = "CHECK constraint naming them"
sampled_rows = "Values sampled"
orphans_in_sample = "Orphans in the sample"
found_in_parent_pct = "Sampled values found in the parent"
orphan_examples = "Orphan examples"
sentinel_rows_in_sample = "Sentinel values in the sample"

[params]
# regular expressions with one capture group: the stem names the referenced table; the rest of the
# name (id, id_, code) may name the referenced key
column_patterns = ["^(.+)_id$", "^(.*[a-z0-9])Id$", "^(.+)_id_$", "^(.+)_code$"]
# names of the referenced key, besides a key named like the column itself or like its suffix
key_names = ["id"]
# irregular plurals, "singular:plural"
irregular_plurals = ["person:people", "child:children", "man:men", "woman:women", "mouse:mice", "datum:data", "criterion:criteria", "index:indices", "matrix:matrices", "status:statuses", "analysis:analyses"]
# a first word stripped from the stem when the whole stem names no table (origin_project_id:
# projects); the table itself may then be the one referenced (parent_group_id in groups); alone
# (new_id, source_id) it qualifies the entity of the table's name: the table named by its
# leading words (artist_gid_redirect.new_id -> artist)
stripped_prefixes = ["new", "origin", "original", "source", "src", "target", "dest", "destination", "parent", "root", "from", "to", "previous", "prev", "next"]
# a column named only like a table, without _id (musicbrainz: artist, link; release_group.type ->
# release_group_type): integer and uuid columns (a bare text column, url or name, is a value more
# often than a reference), to a key named id or like the column, a plural table name
# (destination -> destinations) only to a key named like the column
bare_names = true
# columns that reference their own table's key (adjacency lists), when no table is named after them
self_columns = "^(parent|root)(_id|_id_|Id)?$"
# link tables: a table named after two tables (behind at most one first word: l_artist_release ->
# artist, release; l_area_area -> area twice) whose two positional columns (entity0/entity1,
# tag1/tag2, left_x/right_x; integer or uuid, together in a unique key) reference them in order
link_columns = true
# 1:1 extension tables: a key_names column (id) without a default of its own, the table's primary
# key (or in it), references the table named by the leading words of its name (artist_meta.id ->
# artist.id, l_area_artist_example.id -> l_area_artist.id) when that table's key generates its
# values (a default or an identity)
extension_keys = true
# partitioned tables named after the logical table behind a prefix (p_ci_builds for ci_builds)
partitioned_prefixes = ["p_"]
# tables never audited by this check (schema.table), e.g. pg_partman's template tables
ignore_tables = "^partman\\.template_"
# actor columns (who read, created or approved the row) reference the user table (actor_tables,
# in order of preference) though their name does not spell it
actor_patterns = ["^[a-z][a-z0-9_]*_by$", "^[a-z][a-z0-9_]*_by_id$", "^[a-z][a-zA-Z0-9]*By$"]
# role nouns that name a person: <role>_id, <anything>_<role>_id, <role>Id, <anything><Role>Id
actor_roles = ["owner", "author", "creator", "updater", "assignee", "assigner", "reporter", "approver", "reviewer", "sender", "recipient", "uploader", "inviter", "invitee", "requester", "submitter", "purchaser", "redeemer", "revoker", "granter", "subscriber", "moderator"]
actor_tables = ["users", "user"]
# user tables under a name that may mean something else: candidates only when real foreign keys
# reference them
actor_tables_referenced = ["accounts", "account", "members", "member"]
# ... except these: audit stamps (who created or changed the row: kept without a foreign key so
# that they outlive the user, see audit_columns_missing) and names of an ordering or another row
actor_ignore = "^((created|updated|deleted|changed|modified|last_modified|last_updated|inserted|archived)_?by(_?id)?$|(grouped|sorted|ordered|partitioned|indexed|keyed|filtered|replaced|superseded|followed|preceded|caused|triggered|generated|signed|powered|backed|covered)_?by)"
# columns that are never references to a local table, whatever their name
ignore_columns = "^(external|remote|provider|vendor|stripe|paypal|oauth|openid|google|facebook|apple|github|twitter|legacy|old|foreign|third_party|source_system)_"
# one column name without its foreign key on this many tables is one finding (a design choice)
pattern_min_tables = 10
# a column keeping a copy of the referenced row's label (last_seen_name: the parent's name):
# the row is meant to outlive its parent, a reference soft by design (capture: the parent's column)
survivor_columns = "^(?:last_seen|last_known)_(.+)$"
# non-null values read per probed column (the first rows the scan meets, cut by LIMIT)
sample_rows = 1000
# below this share of sampled values found in the candidate parent, the column is no reference
min_found_share = 0.5
# columns probed per audit (keep under the engine's cap of 50 probes per check)
probed_candidates = 40
*/
with recursive family(typ, name) as (
  -- the key type families a reference and its key must share (a domain by its base type)
  values (20::oid, 'integer'), (21, 'integer'), (23, 'integer'), (2950, 'uuid'),
         (25, 'text'), (1043, 'text'), (1042, 'text')
), rx as (
  -- every name pattern as one regular expression (computed once, compiled once); role names end
  -- in _id or Id (owner_id, resource_owner_id, ownerId) and are told by their last word below:
  -- an alternation of the role nouns costs several times the whole catalog scan
  select '(?:' || array_to_string(%(column_patterns)s::text[] || %(actor_patterns)s::text[], ')|(?:') || ')|'
         || %(self_columns)s::text
         -- role names need their own alternative only where no column pattern already takes them
         || case when cardinality(%(actor_roles)s::text[]) > 0
                  and not ('a_owner_id' ~ any (%(column_patterns)s::text[]) and 'aOwnerId' ~ any (%(column_patterns)s::text[]))
                 then '|(?:_id|Id)$' else '' end as any_name
), names as materialized (
  -- the tables a name may designate, by their name without case and underscores
  select t.oid, t.nspname, t.relname, t.relkind, lower(replace(t.relname, '_', '')) as norm
  from scope_tables t
  where not t.relispartition
), tails as materialized (
  -- every table name's trailing words (editor_collection: editor_collection, collection): the
  -- names a bare column may be (link, artist, type in artist -> artist_type)
  select distinct array_to_string(w.words[n:], '_') as tail
  from names nm
  cross join lateral (select string_to_array(nm.relname, '_') as words) w
  cross join generate_series(1, cardinality(w.words)) n
  where %(bare_names)s
), cand as (
  -- candidate columns: the name matches a pattern, no foreign key includes the column
  select a.*, fam.name as family,
         lower(regexp_replace(coalesce(substring(a.attname from a.pattern), case when a.bare then a.dn end),
                              '([a-z0-9])([A-Z])', '\1_\2', 'g')) as stem,
         -- the rest of the name may name the key: language_code -> code, deployment_id_ -> id_
         lower(ltrim(substr(a.attname, length(substring(a.attname from a.pattern)) + 1), '_')) as key_suffix,
         -- owner_id beside a text owner_type: a polymorphic association (Rails), several tables;
         -- a role name there is no user (room_id beside a room_type may still be rooms')
         a.actor_pattern is not null and exists (
           select 1 from pg_catalog.pg_attribute pa
           join pg_catalog.pg_type pt on pt.oid = pa.atttypid
           where pa.attrelid = a.relid
             and pa.attname = regexp_replace(regexp_replace(a.attname, '_id_?$', '_type'), 'Id$', 'Type')
             and pa.attname <> a.attname and not pa.attisdropped
             and coalesce(nullif(pt.typbasetype, 0), pt.oid) in (25, 1043, 1042)) as polymorphic,
         -- a qualifier alone (new_id, source_id): the entity of the table's own name
         a.pattern is not null and not a.self_ref
           and lower(substring(a.attname from a.pattern)) = any(%(stripped_prefixes)s::text[]) as qualifier_only
  from (
    -- the columns of each table by index range scan, the name patterns first (offset 0):
    -- the other tests run on the few columns that match
    select t.oid as relid, t.nspname, t.relname, t.relkind, a.attnum, a.attname, a.atttypid,
           a.attnotnull, p.pattern, p.actor_pattern, a.attname ~ %(self_columns)s::text as self_ref,
           -- a column named only like a table (artist, link; numbered: tag1, tag2 -> tag): no
           -- pattern, no actor, no self-reference
           p.pattern is null and p.actor_pattern is null and a.attname !~ %(self_columns)s::text
             and (a.dn in (select tl.tail from tails tl) or a.dn || 's' in (select tl.tail from tails tl)) as bare,
           a.dn, p.pos_base, p.pos_ord, a.ext_key
    from scope_tables t
    -- the columns foreign keys include, once per table: a cheap test before the name patterns
    -- (most named columns are constrained references already)
    cross join lateral (
      select coalesce(array_agg(k.att), '{}') as covered
      from pg_catalog.pg_constraint f cross join unnest(f.conkey) k(att)
      where f.conrelid = t.oid and f.contype = 'f') fk
    cross join lateral (
      -- (the derived fields below only for the columns left)
      select a.attnum, a.attname, a.atttypid, a.attnotnull,
             -- the name without a trailing number (entity0, tag1, seconder_1)
             case when ascii(right(a.attname::text, 1)) between 48 and 57
                  then regexp_replace(a.attname, '([^0-9_])_?[0-9]$', '\1') else a.attname::text end as dn,
             -- the key of a possible 1:1 extension table (artist_meta.id): a key_names column
             -- with no default of its own, in a table named with several words
             %(extension_keys)s and a.attname = any(%(key_names)s::text[]) and not a.atthasdef
               and a.attidentity = '' and a.attgenerated = '' and strpos(t.relname, '_') > 0 as ext_key
      from (
        select a.attnum, a.attname, a.atttypid, a.attnotnull, a.atthasdef, a.attidentity, a.attgenerated
        from pg_catalog.pg_attribute a
        where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped and a.attnum <> all(fk.covered)
          -- a key type (family below) or a user type (a domain over one): a cheap test before
          -- the regular expression; a bare name (a table's trailing words) or a positional one
          -- (entity0, left_artist) integer or uuid only
          and (a.atttypid in (20, 21, 23, 2950, 25, 1043, 1042) or a.atttypid >= 16384)
          and (a.attname ~ (select rx.any_name from rx)
               or (a.atttypid in (20, 21, 23, 2950) or a.atttypid >= 16384)
                  and (a.attname in (select tl.tail from tails tl)
                       or a.attname || 's' in (select tl.tail from tails tl)
                       -- left_/right_ or a trailing digit, without a regular expression per column
                       or ascii(right(a.attname::text, 1)) between 48 and 57
                       or a.attname like 'left\_%%' or a.attname like 'right\_%%')
               or strpos(t.relname, '_') > 0 and not a.atthasdef and a.attname = any(%(key_names)s::text[]))
        offset 0) a
      offset 0) a
    cross join lateral (
      select (select pat from unnest(%(column_patterns)s::text[]) with ordinality u(pat, ord)
              where a.attname ~ pat order by ord limit 1) as pattern,
             -- actor columns (read_by, approved_by_id) and role names (owner_id): the user table
             coalesce((select pat from unnest(%(actor_patterns)s::text[]) with ordinality u(pat, ord)
                       where a.attname ~ pat order by ord limit 1),
                      (select 'role name ' || r.word
                       from (select case when right(a.attname, 3) = '_id'
                                         then reverse(split_part(reverse(a.attname), '_', 2))
                                         when right(a.attname, 2) = 'Id'
                                         then lower(substring(a.attname from '([A-Za-z][a-z0-9]*)Id$')) end as word) r
                       where r.word = any(%(actor_roles)s::text[])))
             as actor_pattern_any,
             -- a positional column of a possible link table (entity0/entity1, left_x/right_x): its
             -- shape (the name without its number or side) and its place in the pair
             case when not %(link_columns)s or a.atttypid not in (20, 21, 23, 2950) and a.atttypid < 16384 then null
                  when a.attname ~ '^(left|right)_.' then substring(a.attname from '^(?:left|right)_(.+)$')
                  when a.attname ~ '[^0-9][0-9]$' then a.dn end as pos_base,
             case when a.attname ~ '^left_' then 0 when a.attname ~ '^right_' then 1
                  else substring(a.attname from '[0-9]$')::int end as pos_ord) p0
    cross join lateral (
      select p0.pattern, p0.pos_base, p0.pos_ord,
             case when p0.actor_pattern_any is null then null
                  when a.attname !~* %(actor_ignore)s::text then p0.actor_pattern_any end as actor_pattern) p
    where not t.relispartition                     -- a partitioned table is reported once
      and (p.pattern is not null or p.actor_pattern is not null or a.attname ~ %(self_columns)s::text
           or a.dn in (select tl.tail from tails tl) or a.dn || 's' in (select tl.tail from tails tl)
           or p.pos_base is not null
           -- an extension key only where leading words of the table's name name a table
           or a.ext_key and exists (
                select 1 from (select string_to_array(t.relname, '_') as words) w
                cross join generate_series(1, cardinality(w.words) - 1) n
                join pg_catalog.pg_class r on r.relname = array_to_string(w.words[1:n], '_')
                where r.relkind in ('r', 'p')))
      and format('%%s.%%s', t.nspname, t.relname) !~ %(ignore_tables)s::text
    offset 0
  ) a
  join pg_catalog.pg_type ct on ct.oid = a.atttypid
  join family fam on fam.typ = coalesce(nullif(ct.typbasetype, 0), ct.oid)
  where a.attname !~* %(ignore_columns)s::text
    -- a bare text column (url, name) is a value more often than a reference
    and not (a.bare and fam.name = 'text')

), tree as (
  -- partitions below a partitioned candidate, via pg_inherits (pg_partition_tree() locks them all)
  select distinct c.relid as root, c.relid from cand c where c.relkind = 'p'
  union all
  select t.root, i.inhrelid from tree t join pg_catalog.pg_inherits i on i.inhparent = t.relid
), leaf_fk as (
  -- per partitioned candidate column: its leaf partitions, and those with their own foreign key on it
  select c.relid, c.attnum, count(*) as leaves,
         count(*) filter (where exists (
           select 1 from pg_catalog.pg_constraint f
           join pg_catalog.pg_attribute pa on pa.attrelid = f.conrelid and pa.attnum = any(f.conkey)
           where f.conrelid = t.relid and f.contype = 'f' and pa.attname = c.attname)) as with_fk
  from cand c
  join tree t on t.root = c.relid
  join pg_catalog.pg_class l on l.oid = t.relid and l.relkind not in ('p', 'I')
  group by c.relid, c.attnum
), pairs as materialized (
  -- link tables (`link_columns`): the two positional columns of a table whose name joins two
  -- table names behind at most one first word (l_artist_release: artist, release; l_area_area:
  -- area twice), both in one unique key, as a link table's pair is; the first column of the
  -- pair references the first table. Several ways to cut the name: the one skipping no word.
  select c.relid, c.attnum, case when sib.first then d.a else d.b end as form
  from cand c
  cross join lateral (
    select count(*) as n, min(x.ord) = c.pos_ord as first, array_agg(x.attnum) as atts
    from (select x.attnum,
                 case when x.attname ~ '^left_' then 0 when x.attname ~ '^right_' then 1
                      else substring(x.attname from '[0-9]$')::int end as ord
          from pg_catalog.pg_attribute x
          where x.attrelid = c.relid and x.attnum > 0 and not x.attisdropped
            and (x.attname ~ '^(left|right)_.' and substring(x.attname from '^(?:left|right)_(.+)$') = c.pos_base
                 or x.attname ~ '[^0-9][0-9]$' and regexp_replace(x.attname, '([^0-9_])_?[0-9]$', '\1') = c.pos_base)
          offset 0) x
  ) sib
  cross join lateral (
    select v.a, v.b
    from (select string_to_array(c.relname, '_') as w) w
    cross join generate_series(0, 1) s
    cross join generate_series(s + 1, cardinality(w.w) - 1) k
    cross join lateral (select array_to_string(w.w[s + 1:k], '_') as a, array_to_string(w.w[k + 1:], '_') as b) v
    where exists (select 1 from names n where n.norm = lower(replace(v.a, '_', '')))
      and exists (select 1 from names n where n.norm = lower(replace(v.b, '_', '')))
    order by s, k
    limit 1
  ) d
  where c.pos_base is not null and sib.n = 2
    and exists (select 1 from pg_catalog.pg_index i
                where i.indrelid = c.relid and i.indisunique and sib.atts <@ i.indkey::int2[])
), pprefix as materialized (
  -- prefixes of partitioned tables (p_): only those some partitioned table in scope has
  select '' as p
  union all
  select x from unnest(%(partitioned_prefixes)s::text[]) x
  where exists (select 1 from names n where n.relkind = 'p' and left(n.relname, length(x)) = x)
), referenced as materialized (
  -- tables real foreign keys reference (the user tables of actor_tables_referenced must be)
  select distinct f.confrelid from pg_catalog.pg_constraint f where f.contype = 'f'
), self_names as materialized (
  -- self-references the schema declares, by column name: parent_id referencing its own table
  -- elsewhere corroborates the self-reference
  select ra.attname, count(*) as n_self
  from pg_catalog.pg_constraint f
  cross join lateral (select a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = f.conrelid and a.attnum = f.conkey[1] offset 0) ra
  where f.contype = 'f' and f.conparentid = 0 and f.conrelid = f.confrelid and cardinality(f.conkey) = 1
    and exists (select 1 from cand c where c.self_ref)
  group by ra.attname
), mirrors as materialized (
  -- a copy of another row's parent_id: the table is named after that row's table and names it
  -- (post_versions.post_id) whose own parent_id is a declared self-reference, so
  -- post_versions.parent_id is a post's parent copied with the version, not another version;
  -- not fixed_charges beside plan_id, whose parent_id is another fixed charge
  select c.relid, c.attnum
  from cand c
  join pg_catalog.pg_constraint sf on sf.contype = 'f' and sf.conrelid = sf.confrelid
   and sf.conrelid <> c.relid and cardinality(sf.conkey) = 1
  join pg_catalog.pg_attribute sa on sa.attrelid = sf.conrelid and sa.attnum = sf.conkey[1]
   and sa.attname = c.attname
  join pg_catalog.pg_class sc on sc.oid = sf.conrelid
  cross join lateral (select regexp_replace(sc.relname, 's$', '') as singular) sg
  where c.self_ref
    and left(c.relname, length(sg.singular)) = sg.singular
    and exists (select 1 from pg_catalog.pg_attribute ca
                where ca.attrelid = c.relid and ca.attnum > 0 and not ca.attisdropped
                  and ca.attname = sg.singular || '_id')
), forms as materialized (
  -- the table names a column may stand for, with their tier (1 the name, 2 the child table's own
  -- prefix words + the name, 3 a partitioned p_ table, 4 and 5 the same with a first word
  -- stripped, 6 the table itself, 7 the user table) and their order within it; the column's
  -- fields travel along, so nothing below joins back to cand (a re-scan per candidate column)
  select c.*, f.form, f.tier, f.ord, f.plen, f.partitioned_only, f.referenced_only, f.key_alias, f.strict_key,
         case when c.relkind = 'p' then format('%%s of %%s', coalesce(lf.with_fk, 0), coalesce(lf.leaves, 0)) end
           as partitions_with_fk
  from cand c
  left join leaf_fk lf on lf.relid = c.relid and lf.attnum = c.attnum
  cross join lateral (
    select u.t, 7, u.o::int, 0, false, false, null::text, false
    from unnest(%(actor_tables)s::text[]) with ordinality u(t, o)
    where c.actor_pattern is not null and not c.polymorphic
    union all
    select u.t, 7, 100 + u.o::int, 0, false, true, null, false
    from unnest(%(actor_tables_referenced)s::text[]) with ordinality u(t, o)
    where c.actor_pattern is not null and not c.polymorphic
    union all
    select c.relname, 6, 1, 0, false, false, null, false where c.self_ref
    union all
    -- a positional column of a link table: the table named in its place
    select pr.form, 8, 1, 0, false, false, null, false
    from pairs pr where c.pos_base is not null and pr.relid = c.relid and pr.attnum = c.attnum
    union all
    -- the key of a 1:1 extension table (`extension_keys`): the table named by the leading words
    -- of its name, the longest that name one (artist_meta -> artist, l_area_artist_example ->
    -- l_area_artist, not l_area); the key is the table's primary key (or a column of it), or,
    -- without one, indexed; no other column is named after that table (event_art.event: the
    -- art's own id is no event's). A qualifier alone (new_id: a stripped_prefixes word and the
    -- suffix) names the same table: artist_gid_redirect.new_id -> artist
    select e.form, case when c.ext_key then 9 else 10 end, 1, 0, false, false, null, c.ext_key
    from (select array_to_string(w.words[1:n], '_') as form
          from (select string_to_array(c.relname, '_') as words) w
          cross join generate_series(cardinality(w.words) - 1, 1, -1) n
          where (c.ext_key or c.qualifier_only)
            and exists (select 1 from names nm where nm.norm = lower(array_to_string(w.words[1:n], '')))
          order by n desc limit 1) e
    where (c.ext_key or c.qualifier_only)
      and (c.qualifier_only
       or exists (select 1 from pg_catalog.pg_index i
                  where i.indrelid = c.relid and c.attnum = any(i.indkey)
                    and (i.indisprimary or not exists (select 1 from pg_catalog.pg_index pk
                                                       where pk.indrelid = c.relid and pk.indisprimary))))
      and not exists (select 1 from pg_catalog.pg_attribute x
                      where x.attrelid = c.relid and x.attnum > 0 and not x.attisdropped
                        and lower(x.attname) in (e.form, e.form || '_id', e.form || 'id'))
    union all
    select pp.p || mp.prefix || nf.name,
           case when st.stripped and mp.plen = 0 and pp.p = '' then 4 when st.stripped then 5
                when pp.p <> '' then 3 when mp.plen > 0 then 2 else 1 end,
           nf.ord, mp.plen, pp.p <> '', false,
           -- the key may be named like the column without its first word (original_language_id: language_id)
           st.s || '_' || c.key_suffix,
           -- a bare name: the plural (destination -> destinations) only when the key is named
           -- like the column
           c.bare and nf.ord <> 2
    from (
      -- the stem, and the stem without a first word such as origin_ (origin_project: project)
      select c.stem as s, false as stripped
      union all
      select substr(c.stem, strpos(c.stem, '_') + 1), true
      where strpos(c.stem, '_') > 0 and split_part(c.stem, '_', 1) = any(%(stripped_prefixes)s::text[])
        and not c.bare
    ) st
    cross join lateral (
      values (st.s || 's', 1), (st.s, 2), (case when not c.bare then st.s || 'es' end, 3),
             (case when st.s ~ '[^aeiou]y$' and not c.bare then regexp_replace(st.s, 'y$', 'ies') end, 4),
             (regexp_replace(st.s, '[^_]*$', '')                 -- irregular plurals
              || (select split_part(ip, ':', 2) from unnest(%(irregular_plurals)s::text[]) ip
                  where split_part(ip, ':', 1) = regexp_replace(st.s, '^.*_', '') and not c.bare limit 1), 5)
    ) nf(name, ord)
    cross join lateral (
      -- the name alone, or behind the child table's own leading words (ci_running_builds: ci_,
      -- ci_running_); a bare name also behind the whole child name (artist.type: artist_type)
      select '' as prefix, 0 as plen
      union all
      select array_to_string(w.words[1:n], '_') || '_', n
      from (select string_to_array(c.relname, '_') as words) w
      cross join generate_series(1, cardinality(w.words) - case when c.bare then 0 else 1 end) n
    ) mp
    cross join pprefix pp
    where (c.pattern is not null or c.bare) and nf.name is not null
  ) f(form, tier, ord, plen, partitioned_only, referenced_only, key_alias, strict_key)
  -- a partitioned table whose every partition has its own foreign key on the column is covered
  -- (one without partitions is not: nothing covers its rows once it has some)
  where not (c.relkind = 'p' and coalesce(lf.leaves, 0) > 0 and lf.leaves = lf.with_fk)
), matched as materialized (
  -- the tables each name form designates (a hash join on the normalized name: the key lookups
  -- below run for these few pairs only)
  select c.*, rt.oid as target, rt.nspname as target_nspname, rt.relname as target_relname,
         rt.relkind as target_kind, rt.nspname = c.nspname as same_schema,
         -- the user table real foreign keys reference first (users unreferenced, accounts referenced)
         c.tier = 7 and rt.oid in (select r.confrelid from referenced r) as target_referenced
  from forms c
  join names rt on rt.norm = lower(replace(c.form, '_', ''))
  -- a table's own key is no reference, but for parent_id, parent_group_id in groups, users.inviter_id
  where (rt.oid <> c.relid or c.tier in (4, 5, 6, 7))
    and (c.tier <> 6 or rt.oid = c.relid)
    and (not c.partitioned_only or rt.relkind = 'p')
    and (not c.referenced_only or rt.oid in (select r.confrelid from referenced r))
), best as (
  -- the referenced key: a primary key or unique key (constraint or plain unique index) of the
  -- same type family, named like the column, like its suffix or like key_names; one column, or
  -- two with the other one in the child too (or a partitioned parent: the partition key)
  select distinct on (c.relid, c.attnum) c.*, kk.key_att, kk.key_column, kk.key_type, kk.indisprimary,
         c.tier = 7 as actor, kk.part_column, kk.child_has_part, kk.composite, kk.key_pos,
         count(*) over (partition by c.relid, c.attnum) as candidates
  from matched c
  cross join lateral (
    select ka.attnum as key_att, ka.attname as key_column, ka.atttypid as key_type, k.indisprimary,
           pa.attname as part_column, cp.attname is not null as child_has_part,
           k.indnkeyatts = 2 as composite, ki.i as key_pos
    from pg_catalog.pg_index k
    cross join lateral generate_series(0, k.indnkeyatts - 1) ki(i)
    join pg_catalog.pg_attribute ka on ka.attrelid = k.indrelid and ka.attnum = k.indkey[ki.i]
    join pg_catalog.pg_type kt on kt.oid = ka.atttypid
    join family kf on kf.typ = coalesce(nullif(kt.typbasetype, 0), kt.oid) and kf.name = c.family
    left join pg_catalog.pg_attribute pa on k.indnkeyatts = 2 and pa.attrelid = k.indrelid
     and pa.attnum = k.indkey[1 - ki.i] and pa.attnum > 0
    left join lateral (select ca.attname from pg_catalog.pg_attribute ca
                       where ca.attrelid = c.relid and ca.attname = pa.attname and ca.atttypid = pa.atttypid
                         and not ca.attisdropped and ca.attname <> c.attname offset 0) cp on true
    where k.indrelid = c.target and k.indisunique and k.indisvalid
      and k.indnkeyatts in (1, 2) and k.indpred is null and k.indexprs is null
      -- an extension table copies its parent's keys: the parent generates them (a default or
      -- an identity), the extension has none of its own
      and (c.tier <> 9 or (ka.atthasdef or ka.attidentity <> '')
                          and not exists (select 1 from pg_catalog.pg_constraint f
                                          where f.conrelid = c.relid and f.contype = 'f' and f.confrelid = c.target))
      and (ka.attname = c.attname
           or not c.strict_key and (ka.attname = any(%(key_names)s::text[]) or ka.attname = c.key_suffix
                                    or ka.attname = c.key_alias))
      -- a two-column key: a partitioned parent's (id, partition_id), or a key whose other column
      -- the child has and which is a reference itself (tenant_id, user_id; not a version number)
      -- (a stripped name has no partner: target_device_id is not the device of user_id)
      and (k.indnkeyatts = 1
           or pa.attnum is not null and c.tier not in (4, 5)
              and (c.target_kind = 'p'
                   or cp.attname is not null
                      and exists (select 1 from unnest(%(column_patterns)s::text[]) x where pa.attname ~ x)))
    offset 0
  ) kk
  order by c.relid, c.attnum, c.tier, c.same_schema desc, kk.composite, (c.target_relname = c.form) desc,
           (kk.key_column = any(%(key_names)s::text[])) desc, (kk.key_column = c.attname) desc, kk.indisprimary desc,
           c.target_referenced desc, c.ord, c.plen desc, c.target_nspname
)
, declared as materialized (
  -- the same relationship constrained elsewhere: real foreign keys into the candidates' parent
  -- keys, by the name of the referencing column (each constraint once, at the partitioned parent)
  select f.confrelid, k.fatt, ra.attname, count(*) as tables,
         sum(count(*)) over (partition by f.confrelid, k.fatt) as any_column
  from pg_catalog.pg_constraint f
  cross join lateral unnest(f.conkey, f.confkey) k(att, fatt)
  cross join lateral (select a.attname from pg_catalog.pg_attribute a
                      where a.attrelid = f.conrelid and a.attnum = k.att offset 0) ra
  where f.contype = 'f' and f.conparentid = 0
    and f.confrelid in (select b.target from best b)
  group by 1, 2, 3
), grouped as materialized (
  -- one column name without its foreign key on many tables is one pattern (a design choice)
  -- an actor column never spells its table: the foreign keys into the user table's key from
  -- any column vouch for it
  select b.*, coalesce(case when b.actor then a.any_column when b.tier = 6 then sn.n_self else d.tables end, 0) as elsewhere,
         count(*) over (partition by b.attname, b.target) as pattern_size,
         -- a composite key the child cannot reference yet (no partition column): no fix to apply
         b.composite and not b.child_has_part as no_fk_possible
  from best b
  left join declared d on d.confrelid = b.target and d.fatt = b.key_att and d.attname = b.attname
  left join (select distinct confrelid, fatt, any_column from declared) a
    on a.confrelid = b.target and a.fatt = b.key_att
  left join self_names sn on b.tier = 6 and sn.attname = b.attname
  -- parent_id of other tables referencing this one: here the name means a row of another table
  -- (a chain t1.parent_id -> t0), not of its own
  where not (b.tier = 6 and coalesce(d.tables, 0) > 0)
    -- a copy of another row's parent_id (mirrors): not a self-reference
    and not (b.tier = 6 and (b.relid, b.attnum) in (select m.relid, m.attnum from mirrors m))
), sentinel as (
  -- values the column's CHECK constraints single out (user_id = 0 or ..., user_id <> -1,
  -- user_id = any (array[...])): sentinels such as "0 = anonymous" that no parent row has
  -- a CHECK that is nothing but a list of values (vote in (-1, 0, 1)) makes a bare column an
  -- enumeration, not a reference: enumerated
  select g.relid, g.attnum, array_agg(distinct v.val order by v.val) as vals, min(d.conname) as conname,
         bool_or(d.def ~ ('^CHECK \(\(' || d.ident || ' = ANY \(ARRAY\[[^]]*\]\)\)\)$')) as enumerated
  from grouped g
  join pg_catalog.pg_constraint con on con.conrelid = g.relid and con.contype = 'c'
   and g.attnum = any(con.conkey)
  cross join lateral (
    select x.*, '(?:^|[^\w".])' || x.ident as col
    from (select con.conname, pg_catalog.pg_get_constraintdef(con.oid) as def,
                 regexp_replace(quote_ident(g.attname), '([].^$*+?(){}|\\[])', '\\\1', 'g') as ident) x) d
  cross join lateral (
    select m[1] as lit
    from regexp_matches(d.def, d.col || '\s*(?:=|<>|!=)\s*\(?(''(?:[^'']|'''')*''|-?[0-9]+(?:\.[0-9]+)?)', 'g') m
    union all
    select e
    from regexp_matches(d.def, d.col || '\s*=\s*ANY\s*\(ARRAY\[([^]]*)\]', 'g') m
    cross join lateral regexp_split_to_table(m[1], '\s*,\s*') e
  ) l
  cross join lateral (
    select replace(regexp_replace(regexp_replace(l.lit, '::[a-z][a-z0-9 _]*(\[\])?$', ''),
                                  '^\(?''(.*)''\)?$', '\1'), '''''', '''') as val) v
  group by g.relid, g.attnum
), fk_schemas as materialized (
  -- the schemas that declare foreign keys (read only when a corroborated candidate's schema is
  -- not its parent's)
  select distinct r.relnamespace from pg_catalog.pg_constraint f
  join pg_catalog.pg_class r on r.oid = f.conrelid
  where f.contype = 'f'
), judged as (
  select g.*, s.vals as sentinels, s.conname as sentinel_check,
         -- soft by design, though other tables declare the foreign key: a schema that declares
         -- none (json_dump: a dump or cache whose rows outlive their parents), or a table that
         -- is the column alone (a queue of keys to process, deleted parents included)
         case when g.elsewhere = 0 then null
              when c.relnatts = 1 then 'queue'
              when not g.same_schema and c.relnamespace not in (select fs.relnamespace from fk_schemas fs)
              then 'schema'
              -- the row keeps its parent's label (last_seen_name beside collection): it is meant
              -- to outlive the row it names (a subscription to a deleted collection)
              when sv.col is not null then 'survivor' end as soft, sv.col as survivor_column,
         g.pattern_size >= %(pattern_min_tables)s and not g.no_fk_possible as is_pattern, c.reltuples,
         -- a bounded read of the column's values, for the tables that have rows: plain tables
         -- (reading a partitioned one locks every partition) the role may read, not locked;
         -- a composite key is looked up by both columns or not at all
         %(allow_data)s and g.relkind = 'r' and g.target_kind = 'r' and not g.composite
           and g.pattern_size < %(pattern_min_tables)s
           and not (c.reltuples = 0 and (%(server_version_num)s >= 140000 or c.relpages = 0)
                    and pg_catalog.pg_stat_get_live_tuples(g.relid) = 0
                    and pg_catalog.pg_stat_get_tuples_inserted(g.relid) = 0)
           and g.relid <> all(%(locked)s::oid[]) and g.target <> all(%(locked)s::oid[])
           and pg_catalog.has_table_privilege(g.relid, 'SELECT')
           and pg_catalog.has_table_privilege(g.target, 'SELECT') as can_probe
  from grouped g
  left join sentinel s on s.relid = g.relid and s.attnum = g.attnum
  cross join lateral (select c.reltuples, c.relpages, c.relnatts, c.relnamespace from pg_catalog.pg_class c where c.oid = g.relid offset 0) c
  cross join lateral (select min(sa.attname) as col from pg_catalog.pg_attribute sa
                      join pg_catalog.pg_attribute ta on ta.attrelid = g.target and ta.attnum > 0
                       and not ta.attisdropped and ta.attname = substring(sa.attname from %(survivor_columns)s::text)
                      where g.elsewhere > 0 and sa.attrelid = g.relid and sa.attnum > 0 and not sa.attisdropped
                        and sa.attname ~ %(survivor_columns)s::text) sv
  where not (g.bare and coalesce(s.enumerated, false))
), budget as (
  -- each probe locks both tables and their indexes until the check ends: the uncorroborated
  -- candidates first (the probe decides their verdict), the biggest tables first, within
  -- probed_candidates and the lock budget
  select j.*,
         row_number() over w <= %(probed_candidates)s
           and sum(2 + (select count(*) from pg_catalog.pg_index i where i.indrelid = j.relid)
                     + (select count(*) from pg_catalog.pg_index i where i.indrelid = j.target)) over w
               <= %(lock_budget)s::int as probed
  from judged j
  where j.can_probe
  window w as (order by j.elsewhere = 0 desc, j.reltuples desc, j.relid, j.attnum)
), worded as (
  select j.*, coalesce(b.probed, false) as probed, n.fk_name,
         case j.tier when 1 then 'the name' when 2 then 'the table''s own prefix words and the name'
                     when 3 then 'the partitioned table behind the name' when 4 then 'the name without its first word'
                     when 5 then 'the name without its first word, behind prefix words'
                     when 6 then 'a reference to the table itself' when 7 then 'an actor or role: the user table'
                     when 8 then 'a link table''s name joining two table names, the column''s place in the pair'
                     when 9 then 'a 1:1 extension table named after its parent, whose keys it copies'
                     else 'a qualifier alone: the table named by the leading words of the table''s name' end as matched_by,
         case when j.elsewhere > 0 and j.actor
              then format('; %%s foreign key%%s of the schema reference%%s %%s, its user table, and the column names an actor',
                          j.elsewhere, case when j.elsewhere = 1 then '' else 's' end, case when j.elsewhere = 1 then 's' else '' end, j.target::regclass)
              when j.elsewhere > 0 and j.tier = 6
              then format('; %%s through a foreign key from a column named %%s, so the name means a self-reference in this schema',
                          case when j.elsewhere = 1 then '1 other table references itself' else j.elsewhere || ' other tables reference themselves' end, quote_ident(j.attname))
              when j.elsewhere > 0
              then format('; %%s this foreign key from a column named %%s, so the relationship is real',
                          case when j.elsewhere = 1 then '1 other table declares' else j.elsewhere || ' other tables declare' end, quote_ident(j.attname)) else '' end as declared_text,
         -- the key's columns in the index's order, the child's in the same order
         case when j.composite and j.key_pos = 0 then format('%%I, %%I', j.key_column, j.part_column)
              when j.composite then format('%%I, %%I', j.part_column, j.key_column)
              else quote_ident(j.key_column) end as key_list,
         case when j.composite and j.key_pos = 0 then format('%%I, %%I', j.attname, j.part_column)
              when j.composite then format('%%I, %%I', j.part_column, j.attname)
              else quote_ident(j.attname) end as col_list
  from judged j
  left join budget b on b.relid = j.relid and b.attnum = j.attnum
  cross join lateral (select j.relname || '_' || j.attname || '_fkey' as base) nb
  cross join lateral (
    select case when octet_length(nb.base) <= 63 then nb.base
                else left(nb.base, case when octet_length(nb.base) = length(nb.base) then 54 else 13 end)
                     || '_' || left(md5(nb.base), 8) end as fk_name) n
), sqls as (
  select k.*,
         case when not k.no_fk_possible then
         format(E'alter table %%s add constraint %%I foreign key (%%s) references %%s (%%s)%%s;',
                k.relid::regclass, k.fk_name, k.col_list, k.target::regclass, k.key_list,
                -- NOT VALID foreign keys on partitioned tables need PostgreSQL 18
                case when k.relkind = 'p' then '' else ' not valid' end) end as add_sql,
         case when k.relkind <> 'p' and not k.no_fk_possible
              then format('alter table %%s validate constraint %%I;', k.relid::regclass, k.fk_name) end as validate_sql,
         case when k.sentinels is not null and not k.no_fk_possible
              then concat(E'-- the sentinel values of the CHECK constraint become NULL first: the foreign key cannot be validated while rows hold them, and the application must write NULL from now on (or insert a row with that key into the referenced table instead of this step)\n',
                          case when k.attnotnull
                               then format(E'alter table %%s alter column %%I drop not null;\n', k.relid::regclass, k.attname) end,
                          format(E'update %%s set %%I = null where %%I in (%%s);\n', k.relid::regclass, k.attname, k.attname,
                                 (select string_agg(quote_literal(v), ', ' order by v) from unnest(k.sentinels) v)))
              else '' end as pre_sql,
         case when k.no_fk_possible
              then format('; %%s is partitioned and its key is (%%s), which includes the partition key %%I: a foreign key must reference all of it, and %%s has no %%I column of that type, so no foreign key is possible until it has one (add it, filled from %%s)',
                          k.target::regclass, k.key_list, k.part_column, k.relid::regclass, k.part_column, k.target::regclass)
              when k.composite
              then format('; the key of %%s is (%%s)%%s, so the foreign key names both columns: (%%s)',
                          k.target::regclass, k.key_list,
                          case when k.target_kind = 'p' then format(', a partitioned table''s key with its partition key %%I', k.part_column) else '' end,
                          k.col_list)
              else '' end as key_note
  from worded k
), single as (
  select k.relid::regclass::text as object,
         'column' as object_type,
         array[k.attname::text] as columns,
         quote_ident(k.attname) as column, coalesce(k.pattern, k.actor_pattern, case when k.bare then 'a table name' else %(self_columns)s::text end) as _pattern,
         k.form as matched_table_name,
         k.matched_by,
         k.target::regclass::text as referenced, quote_ident(k.key_column) as referenced_column,
         case when k.composite then '(' || k.key_list || ')' end as referenced_key_columns,
         case when k.indisprimary then 'primary key' else 'unique key' end as referenced_key,
         k.same_schema, format_type(k.atttypid, null) as type,
         format_type(k.key_type, null) as referenced_type,
         k.candidates - 1 as other_candidates, k.partitions_with_fk,
         k.elsewhere as same_fk_elsewhere,
         null::text[] as tables, null::bigint as table_count,
         k.sentinels as sentinel_values, quote_ident(k.sentinel_check) as sentinel_check,
         -- measured by the probe, which replaces them
         null::bigint as sampled_rows, null::bigint as orphans_in_sample,
         null::float8 as found_in_parent_pct, null::jsonb as orphan_examples, null::bigint as sentinel_rows_in_sample,
         format('%%s.%%s (%%s)', k.relid::regclass, quote_ident(k.attname), format_type(k.atttypid, null)) as _subject,
         'no foreign key covers it' as _gap, k.key_note as _key_note,
         case when k.elsewhere > 0 then k.declared_text
              else format('; nothing corroborates it (no value sampled, no other table declares it): verify that the column holds keys of %%s before adding the constraint',
                          k.target::regclass) end as _evidence,
         case when k.sentinels is not null and not k.no_fk_possible
              then format('; %%s in CHECK constraint %%s, so the fix maps %%s to NULL before validating',
                          case when cardinality(k.sentinels) = 1 then array_to_string(k.sentinels, ', ') || ' is a sentinel'
                               else array_to_string(k.sentinels, ', ') || ' are sentinels' end,
                          quote_ident(k.sentinel_check),
                          case when cardinality(k.sentinels) = 1 then 'it' else 'them' end) else '' end as _sentinel_note,
         k.soft is not null as _soft,
         case k.soft when 'queue' then format('; but %%s is nothing but this column, a queue of keys to process whose rows may name deleted parents: a foreign key would block or cascade the very deletes it records, so decide before adding it', k.relid::regclass)
                     when 'schema' then format('; but schema %%I declares no foreign key at all (a dump, cache or staging schema whose rows may outlive their parents), so decide before adding it', k.nspname)
                     when 'survivor' then format('; but %%s keeps a copy of the named row''s label (%%I), so its rows are meant to outlive their parent in %%s: decide before adding it', k.relid::regclass, k.survivor_column, k.target::regclass)
                     else '' end as _soft_note,
         case when k.probed then format($p$select s.sampled = 0 or s.found >= s.sampled * %%3$s or %%4$s as fires,
       jsonb_build_object('sampled_rows', s.sampled, 'orphans_in_sample', case when s.sampled > 0 then s.sampled - s.found end,
                          'found_in_parent_pct', round(100.0 * s.found / nullif(s.sampled, 0), 1),
                          'orphan_examples', to_jsonb(s.examples[1:5]),
                          'sentinel_rows_in_sample', nullif(s.sentinels, 0),
                          '_evidence', case when s.sampled > s.found then %%5$L
                                            when s.sampled > 0 then %%6$L else %%7$L end) as evidence
from (select count(*) filter (where not x.sentinel) as sampled,
             count(*) filter (where x.found and not x.sentinel) as found,
             count(*) filter (where x.sentinel) as sentinels,
             array_agg(x.v::text order by x.v::text) filter (where not x.found and not x.sentinel) as examples
      from (select c.v, c.v::text = any (%%10$L::text[]) as sentinel,
                   exists (select 1 from %%2$s p where p.%%9$I = c.v) as found
            from (select c.%%8$I as v from %%1$s c where c.%%8$I is not null limit %%11$s) c) x) s$p$,
                   k.relid::regclass, k.target::regclass, %(min_found_share)s::numeric,
                   case when k.elsewhere > 0 then 'true' else 'false' end,
                   format('; sampled rows point at no row of %%s (orphans)%%s: the constraint cannot be validated until they are repaired',
                          k.target::regclass, k.declared_text),
                   case when k.elsewhere > 0 then k.declared_text || format(', and every sampled value exists in %%s', k.target::regclass)
                        else format('; every sampled value exists in %%s, but no other table declares this foreign key: verify the relationship before adding the constraint',
                                    k.target::regclass) end,
                   case when k.elsewhere > 0 then k.declared_text
                        else format('; nothing corroborates it (no value to sample, no other table declares it): verify that the column holds keys of %%s before adding the constraint',
                                    k.target::regclass) end,
                   k.attname, k.key_column, coalesce(k.sentinels, '{}'), %(sample_rows)s::int) end as probe,
         case when not k.no_fk_possible
              then concat(case when k.relkind = 'p'
                               then E'-- partitioned table: the constraint is validated at once (a scan of every partition under SHARE ROW EXCLUSIVE locks)\n' end,
                          k.pre_sql, k.add_sql, E'\n' || k.validate_sql) end as remediation
  from sqls k
  where not k.is_pattern
), patterned as (
  select k.target::regclass::text as object,
         'table' as object_type,
         array[k.attname::text] as columns,
         quote_ident(k.attname) as column, min(coalesce(k.pattern, k.actor_pattern, case when k.bare then 'a table name' else %(self_columns)s::text end)) as _pattern,
         min(k.form) as matched_table_name, min(k.matched_by) as matched_by,
         k.target::regclass::text as referenced, quote_ident(k.key_column) as referenced_column,
         min(case when k.composite then '(' || k.key_list || ')' end) as referenced_key_columns,
         case when bool_or(k.indisprimary) then 'primary key' else 'unique key' end as referenced_key,
         null::boolean as same_schema, string_agg(distinct format_type(k.atttypid, null), ', ') as type,
         format_type(min(k.key_type), null) as referenced_type,
         null::bigint as other_candidates, null::text as partitions_with_fk,
         min(k.elsewhere) as same_fk_elsewhere,
         array_agg(k.relid::regclass::text order by k.relid::regclass::text) as tables, count(*) as table_count,
         null::text[] as sentinel_values, null::text as sentinel_check,
         null::bigint as sampled_rows, null::bigint as orphans_in_sample,
         null::float8 as found_in_parent_pct, null::jsonb as orphan_examples, null::bigint as sentinel_rows_in_sample,
         format('%%s on %%s tables', quote_ident(k.attname), count(*)) as _subject,
         format('none of these %%s tables has a foreign key on it', count(*)) as _gap,
         case when bool_or(k.composite)
              then format('; the key of %%s has two columns, so the foreign key names both', k.target::regclass)
              else '' end as _key_note,
         case when min(k.elsewhere) > 0
              then format('; %%s this foreign key, so these are gaps in one design: add it to every table listed',
                          case when min(k.elsewhere) = 1 then '1 other table declares' else min(k.elsewhere) || ' other tables declare' end)
              else '; no table declares it anywhere, so it looks like a deliberate design choice: one decision to document (or to reverse on every table listed), not one defect per table' end as _evidence,
         case when bool_or(k.sentinels is not null)
              then '; some of these tables single out sentinel values in a CHECK constraint: the fix maps them to NULL before validating' else '' end as _sentinel_note,
         false as _soft, '' as _soft_note,
         null::text as probe,
         concat(string_agg(concat(case when k.relkind = 'p'
                                       then E'-- partitioned table: the constraint is validated at once\n' end,
                                  k.pre_sql, k.add_sql), E'\n' order by k.relid::regclass::text),
                E'\n' || string_agg(k.validate_sql, E'\n' order by k.relid::regclass::text)) as remediation
  from sqls k
  where k.is_pattern
  group by k.target, k.attname, k.key_column
)
select * from single
union all
select * from patterned
order by 1, 3
