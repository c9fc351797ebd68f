-- A small, well-designed application schema: every check must report nothing but 🟢 here.
-- "Ledgerly": multi-tenant invoicing with a credit ledger, done the way the review recommends.

-- Database-level guard rails (the review's 4.2.1 and 7.3.2).
do $$
begin
  execute format('alter database %I set lock_timeout = %L', current_database(), '5s');
  execute format('alter database %I set statement_timeout = %L', current_database(), '30s');
  execute format('alter database %I set idle_in_transaction_session_timeout = %L',
                 current_database(), '60s');
  execute format('alter database %I set log_min_duration_statement = %L', current_database(), '1s');
end $$;

revoke create on schema public from public;

create type invoice_status as enum ('draft', 'issued', 'paid', 'void');

create table schema_migrations (
    version varchar(32) primary key,
    applied_at timestamptz not null default now()
);
insert into schema_migrations (version) values ('20240101000000'), ('20240215093000');

create table tenants (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    deleted_at timestamptz
);
create unique index tenants_name_live_key on tenants (name) where deleted_at is null;
create index tenants_live_idx on tenants (id) where deleted_at is null;

create table users (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete restrict,
    email_hash bytea not null,
    password_hash text not null,
    role text not null default 'member' check (role in ('member', 'admin')),
    credits integer not null default 0 check (credits >= 0),
    version integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    deleted_at timestamptz
);
create index users_tenant_id_idx on users (tenant_id);
create unique index users_email_hash_live_key on users (email_hash) where deleted_at is null;
create index users_live_idx on users (tenant_id) where deleted_at is null;

create table customers (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete restrict,
    display_name text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    deleted_at timestamptz
);
create index customers_tenant_id_idx on customers (tenant_id);
create index customers_live_idx on customers (tenant_id) where deleted_at is null;

create table invoices (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete restrict,
    customer_id uuid not null references customers (id) on delete restrict,
    status invoice_status not null default 'draft',
    total_cents bigint not null check (total_cents >= 0),
    idempotency_key text not null,
    metadata jsonb not null default '{}',
    issued_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid,
    deleted_at timestamptz
);
create index invoices_tenant_id_idx on invoices (tenant_id);
create index invoices_customer_id_idx on invoices (customer_id, created_at);
create unique index invoices_idempotency_key_key on invoices (idempotency_key);
create index invoices_live_idx on invoices (tenant_id, created_at) where deleted_at is null;

create table invoice_lines (
    id uuid primary key default gen_random_uuid(),
    invoice_id uuid not null references invoices (id) on delete cascade,
    description text not null,
    quantity integer not null check (quantity > 0),
    unit_cents bigint not null check (unit_cents >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index invoice_lines_invoice_id_idx on invoice_lines (invoice_id);

-- The ledger: append-only, before/after balances, idempotent, never cascaded away.
create table credit_transactions (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete restrict,
    user_id uuid not null references users (id) on delete restrict,
    amount integer not null,
    balance_before integer not null check (balance_before >= 0),
    balance_after integer not null check (balance_after >= 0),
    idempotency_key text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    created_by uuid,
    updated_by uuid
);
create index credit_transactions_tenant_id_idx on credit_transactions (tenant_id);
create index credit_transactions_user_id_idx on credit_transactions (user_id, created_at);
create unique index credit_transactions_idempotency_key_key
    on credit_transactions (idempotency_key);

-- Partitioned by time from day one, reported as one logical table.
create table events (
    id uuid not null default gen_random_uuid(),
    tenant_id uuid not null references tenants (id) on delete restrict,
    kind text not null,
    payload jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (id, created_at)
) partition by range (created_at);
create index events_tenant_id_idx on events (tenant_id, created_at);
create table events_2024 partition of events
    for values from ('2024-01-01') to ('2025-01-01');
create table events_2025 partition of events
    for values from ('2025-01-01') to ('2026-01-01');
create table events_default partition of events default;

-- Change log fed by a trigger (the review's 6.3.2).
create table audit_logs (
    id bigint generated always as identity primary key,
    table_name text not null,
    record_id uuid not null,
    action text not null check (action in ('INSERT', 'UPDATE', 'DELETE')),
    old_values jsonb,
    new_values jsonb,
    changed_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create function audit_row_change() returns trigger
language plpgsql security definer set search_path = pg_catalog, public as $$
begin
  insert into public.audit_logs (table_name, record_id, action, old_values, new_values)
  values (tg_table_name, coalesce(new.id, old.id), tg_op,
          case when tg_op <> 'INSERT' then to_jsonb(old) end,
          case when tg_op <> 'DELETE' then to_jsonb(new) end);
  return coalesce(new, old);
end $$;

create trigger invoices_audit after insert or update or delete on invoices
    for each row execute function audit_row_change();
create trigger credit_transactions_audit after insert or update or delete on credit_transactions
    for each row execute function audit_row_change();

-- Tenant isolation (the review's 6.2.1), forced so the owner is bound too.
do $$
declare t text;
begin
  foreach t in array array['users', 'customers', 'invoices', 'credit_transactions', 'events']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = current_setting(%L, true)::uuid)',
      t, 'app.tenant_id');
  end loop;
end $$;
alter table tenants enable row level security;
alter table tenants force row level security;
create policy tenant_self on tenants using (id = current_setting('app.tenant_id', true)::uuid);
alter table invoice_lines enable row level security;
alter table invoice_lines force row level security;
create policy tenant_via_invoice on invoice_lines using (exists (
    select 1 from invoices i where i.id = invoice_id));

-- A little data (as the owner, with RLS bypassed for the load only).
set row_security = off;
insert into tenants (id, name) values
  ('00000000-0000-0000-0000-000000000001', 'Acme'),
  ('00000000-0000-0000-0000-000000000002', 'Globex');
insert into users (tenant_id, email_hash, password_hash, credits)
select '00000000-0000-0000-0000-000000000001', sha256(convert_to('user' || g || '@example.com', 'UTF8')),
       '$2b$12$' || substr(md5(g::text) || md5((g * 3)::text), 1, 53), 10
from generate_series(1, 50) g;
insert into customers (tenant_id, display_name)
select '00000000-0000-0000-0000-000000000001', 'Customer ' || g from generate_series(1, 20) g;
insert into invoices (tenant_id, customer_id, status, total_cents, idempotency_key)
select c.tenant_id, c.id, 'issued', 1000 * g, 'inv-' || g
from generate_series(1, 40) g
join lateral (select * from customers offset (g % 20) limit 1) c on true;
insert into invoice_lines (invoice_id, description, quantity, unit_cents)
select id, 'Consulting', 1, total_cents from invoices;
insert into events (tenant_id, kind, created_at)
select '00000000-0000-0000-0000-000000000001', 'login', now() - (g % 30) * interval '1 day'
from generate_series(1, 200) g;
reset row_security;
analyze;
