-- rls_enabled_without_policy: RLS switched on as a gesture, no policy written
create table public.s6_shared_documents (
  id bigint generated always as identity primary key,
  tenant_id bigint not null,
  body text not null
);
alter table public.s6_shared_documents enable row level security;
