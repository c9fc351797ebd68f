-- extension_outdated: an extension created long ago and never updated (seg 1.1; the server
-- ships 1.4). Servers without contrib, such as the PostgreSQL 13 test server, have no seg.
do $$ begin
  if exists (select from pg_catalog.pg_available_extension_versions
             where name = 'seg' and version = '1.1') then
    create extension if not exists seg with version '1.1';
  end if;
end $$;
