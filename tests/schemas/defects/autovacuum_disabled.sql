-- autovacuum_disabled: autovacuum switched off on a table (left over from a bulk load)
create table public.s3_av_imports (id bigint primary key, payload text)
  with (autovacuum_enabled = false);
