-- security_definer_executable_by_public: a privileged helper written for the billing role,
-- left callable by every role (EXECUTE for PUBLIC is the default)
create table public.s62_credit_grants (
  id bigint generated always as identity primary key,
  account_id bigint not null,
  amount numeric(12, 2) not null
);
create function public.s62_grant_credit(p_account bigint, p_amount numeric) returns void
  language sql security definer set search_path = pg_catalog, public, pg_temp
  as 'insert into public.s62_credit_grants (account_id, amount) values (p_account, p_amount)';
