-- public_schema_create_allowed: the pre-PostgreSQL-15 default, restored into a newer server
grant create on schema public to public;
