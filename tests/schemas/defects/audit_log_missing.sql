-- audit_log_missing: nothing records changes to money tables (seed 6.3.2).
-- Fires only when the planted database has no other change-log table and no pgAudit.
create table public.s6_wallet_balances (
  id bigint generated always as identity primary key,
  owner_email text not null,
  balance numeric(12, 2) not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- In planted.sql it follows clean.sql, whose trigger-fed audit_logs table is removed here.
drop table if exists public.audit_logs;
drop function if exists public.audit_row_change() cascade;
