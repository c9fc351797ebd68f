-- password_encryption_md5: the database hashes new passwords with MD5, and an application role
-- already has an MD5 hash (roles are cluster-wide: the fixture loader drops those it created)
do $$ begin
  execute format('alter database %I set password_encryption = %L', current_database(), 'md5');
end $$;
set password_encryption = 'md5';
create role s6_pe5_app login password 'planted-md5-secret';
reset password_encryption;
