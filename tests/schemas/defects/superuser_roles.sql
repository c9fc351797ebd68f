-- superuser_roles: a reporting login role given BYPASSRLS "to make the dashboards work".
-- Roles are cluster-wide: created only if missing, without a password and already expired;
-- drop it with  drop role s6_reporting;  when the planted database is dropped.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 's6_reporting') then
    create role s6_reporting login bypassrls password null valid until '2000-01-01';
  end if;
end $$;
