-- identifier_requires_quoting: mixed-case and reserved-word names that must always be quoted
create table public."S1_UserProfiles" (
  "Id" bigint generated always as identity primary key,
  "DisplayName" text,
  "order" int
);
