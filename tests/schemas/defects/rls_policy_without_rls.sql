-- rls_policy_without_rls: a tenant policy written, RLS never enabled, so it is not applied
create table public.s6_tenant_projects (
  id bigint generated always as identity primary key,
  tenant_id bigint not null,
  name text not null
);
create policy s6_tenant_isolation on public.s6_tenant_projects
  using (tenant_id = current_setting('app.current_tenant_id', true)::bigint);
