-- password_encryption_md5: the database hashes new passwords with MD5, and an application role
-- already has an MD5 hash. Roles are cluster-wide: the role is named after the database, so
-- that two fixtures loaded at once do not collide (the loader drops the roles it created).
set password_encryption = 'md5';
do $$ begin
  execute format('alter database %I set password_encryption = %L', current_database(), 'md5');
  execute format('create role %I login password %L', 's6_pe5_' || current_database(),
                 'planted-md5-secret');
end $$;
reset password_encryption;
