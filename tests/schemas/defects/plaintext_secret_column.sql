-- plaintext_secret_column: refresh and reset tokens stored as they were issued (seed 6.1.1, 6.1.2)
create table public.s6_app_users (
  id bigint generated always as identity primary key,
  email text not null unique,
  password_hash text not null,
  refresh_token varchar(255),
  password_reset_token varchar(255)
);
