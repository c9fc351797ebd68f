-- pii_column_plaintext: a contact form keeping name, e-mail and phone in clear forever (seed 6.1.3)
create table public.s6_contact_form (
  id bigint generated always as identity primary key,
  name text not null,
  email text not null,
  phone text,
  message text not null,
  created_at timestamptz not null default now()
);
