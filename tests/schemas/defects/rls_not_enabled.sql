-- rls_not_enabled: a tenant-scoped table whose isolation rests on application WHERE clauses (seed 6.2.1)
create table public.s6_tenant_invoices (
  id bigint generated always as identity primary key,
  tenant_id bigint not null,
  amount numeric(12, 2) not null,
  created_at timestamptz not null default now()
);
