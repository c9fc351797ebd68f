-- security_definer_search_path: a privileged helper that resolves names with the caller's search_path
create table public.s6_accounts (id bigint generated always as identity primary key, closed boolean not null default false);
create function public.s6_close_account(account_id bigint) returns void
  language sql security definer
  as 'update s6_accounts set closed = true where id = account_id';
