-- serial_instead_of_identity: an owned sequence default instead of an identity column
create table public.s1_tickets (
  id bigserial primary key,
  subject text not null
);
