-- security_definer_view: a reporting view over a tenant-isolated table, owned by the
-- superuser that ran the migration, so the policy never applies through it (PostgreSQL 15+
-- has security_invoker; the check is skipped on older servers)
create table public.s62_tenant_reports (
  id bigint generated always as identity primary key,
  tenant_id bigint not null,
  body text not null
);
alter table public.s62_tenant_reports enable row level security;
create policy s62_tenant_isolation on public.s62_tenant_reports
  using (tenant_id = current_setting('app.tenant_id', true)::bigint);
create view public.s62_report_list as select id, tenant_id, body from public.s62_tenant_reports;
