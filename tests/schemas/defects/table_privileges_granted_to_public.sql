-- table_privileges_granted_to_public: a "grant to public" shortcut on a customer table
create table public.s62_customer_contacts (
  id bigint generated always as identity primary key,
  email text not null
);
grant select, insert, update, delete on public.s62_customer_contacts to public;
