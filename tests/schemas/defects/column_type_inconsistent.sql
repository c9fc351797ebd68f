-- column_type_inconsistent: the same key column stored as bigint in one table and text in another
create table public.s1_accounts (id bigint generated always as identity primary key, s1_account_ref bigint not null);
create table public.s1_account_events (id bigint generated always as identity primary key, s1_account_ref text not null);
