/* pgaudit
id = "server_version_unsupported"
title = "PostgreSQL version past its end of life, or behind the latest minor release"
section = "7.2"
format = 2
needs = ["catalog"]
min_server_version = 10
detects = "The server's version (server_version_num) against the release table that ships with pgaudit (checks/_pg_releases.sql: each major's end-of-life date under the PostgreSQL versioning policy, five years after its release, and its latest minor release), judged as of today (or as_of). Critical when the major is past its end of life: no security fix has been released for it since, and later releases fixed vulnerabilities in every branch still supported. A warning when the minor release is behind the latest of its series: the fixes of the releases in between, security ones included, are missing. Info when the end of life is less than eol_notice_days away (plan the upgrade), or when the major is newer than the table. Every finding prints the table's date, so a stale table shows; latest_minors names newer releases without waiting for a pgaudit release (each replaces the table's entry for its major)."
why = "Once a major version reaches its end of life the PostgreSQL project stops fixing it: security vulnerabilities found later (eleven were fixed at once in May 2026) stay open on it for good, and data-corruption bugs stay unfixed. Minor releases carry only fixes, never new features or format changes, and install by replacing the binaries and restarting: running behind them keeps known, published vulnerabilities and bugs for no benefit."
example = "select version();  -- PostgreSQL 13.4: end of life 2025-11-13, 19 minor releases behind 13.23"
fix = "-- minor: install the latest packages of the same major and restart (no dump, no pg_upgrade)\n-- major: pg_upgrade --link (minutes), or logical replication into a new cluster for a near-zero-downtime switch"
ignore_when = "A managed service that backports fixes under its own version numbers and supports the major longer (check its own end-of-support date), or a server being decommissioned before the date."
references = ["https://www.postgresql.org/support/versioning/", "https://www.postgresql.org/support/security/", "https://www.postgresql.org/docs/current/upgrading.html", "https://www.postgresql.org/docs/current/pgupgrade.html"]
ok = "The server runs a supported major version at its latest minor release"
impact = "Known vulnerabilities and data-corruption bugs stay unfixed on this server."
message = "PostgreSQL {server_version}: {_problem} (release table of {table_date})"
remediation = "Upgrade the minor release by installing the latest packages of the same major and restarting (read the release notes of the releases skipped for steps such as reindexing). For an end-of-life major, plan a major upgrade: pg_upgrade (with --link it takes minutes), or logical replication into a new cluster for a near-zero-downtime switch, then ANALYZE. Managed services offer both as maintenance operations."

[severity]
default = "warning"
# no security fixes any more
critical = ["past_eol"]
info = ["minors_behind = 0 and not past_eol"]

[labels]
server_version = "Server version"
major = "Major version"
eol = "End of life"
latest = "Latest minor release known"
minors_behind = "Minor releases behind"
past_eol = "Past end of life"
days_to_eol = "Days to end of life"
table_date = "Release table of"

[params]
# judge as of this date (YYYY-MM-DD); empty: today
as_of = ""
# end of life closer than this: info, plan the upgrade
eol_notice_days = 365
# newer minor releases than the table knows, as "major.minor" (e.g. ["17.13"])
latest_minors = []
*/
with releases as (
-- pgaudit:include _pg_releases.sql
), given as (
  select split_part(x, '.', 1)::int as major, split_part(x, '.', 2)::int as minor
  from unnest(%(latest_minors)s::text[]) x
  where x ~ '^\d+\.\d+$'
), srv as (
  select %(server_version_num)s::int / 10000 as major, %(server_version_num)s::int %% 100 as minor,
         coalesce(nullif(%(as_of)s::text, '')::date, current_date) as as_of
), judged as (
  select s.major, s.minor, s.as_of, r.eol, r.table_date,
         coalesce(g.minor, r.latest_minor) as latest_minor,
         (select max(t.table_date) from releases t) as any_table_date,
         (select max(t.major) from releases t) as newest_known
  from srv s
  left join releases r on r.major = s.major
  left join given g on g.major = s.major
), facts as (
  select j.*, format('%%s.%%s', j.major, j.minor) as server_version,
         greatest(coalesce(j.latest_minor - j.minor, 0), 0) as minors_behind,
         coalesce(j.eol < j.as_of, false) as past_eol,
         j.eol - j.as_of as days_to_eol
  from judged j
)
select 'server_version' as object,
       'setting' as object_type,
       case when f.eol is null
            then format('major version %%s is not in the release table (it knows %%s and older): update pgaudit, or name its latest minor in latest_minors',
                        f.major, f.newest_known)
            when f.past_eol
            then format('major version %%s reached its end of life on %%s: no security or bug fix has been released for it since%%s',
                        f.major, f.eol,
                        case when f.minors_behind > 0
                             then format(', and this server is %%s minor release%%s behind even its last one, %%s.%%s', f.minors_behind, case when f.minors_behind = 1 then '' else 's' end, f.major, f.latest_minor)
                             else '' end)
            when f.minors_behind > 0
            then format('%%s minor release%%s behind %%s.%%s, the latest of the %%s series: their security and bug fixes are missing%%s',
                        f.minors_behind, case when f.minors_behind = 1 then '' else 's' end, f.major, f.latest_minor, f.major,
                        case when f.days_to_eol <= %(eol_notice_days)s::int
                             then format('; and the major reaches its end of life on %%s', f.eol) else '' end)
            else format('major version %%s reaches its end of life on %%s: plan the upgrade to a newer major', f.major, f.eol)
       end as _problem,
       f.server_version, f.major, f.eol, format('%%s.%%s', f.major, f.latest_minor) as latest,
       f.minors_behind, f.past_eol, f.days_to_eol,
       coalesce(f.table_date, f.any_table_date) as table_date,
       null::text as remediation
from facts f
where f.eol is null or f.past_eol or f.minors_behind > 0
   or f.days_to_eol <= %(eol_notice_days)s::int
