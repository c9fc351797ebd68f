-- rls_policy_always_true: the prototype's "allow everything" policy that reached production
create table public.s62_shared_notes (
  id bigint generated always as identity primary key,
  tenant_id bigint not null,
  body text not null
);
alter table public.s62_shared_notes enable row level security;
create policy s62_allow_all on public.s62_shared_notes for all using (true) with check (true);
