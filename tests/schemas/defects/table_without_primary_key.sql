-- table_without_primary_key: an import staging table nobody gave a key (and a partitioned
-- one, reported once at its parent).
create table public.pk_import_rows (source text not null, payload jsonb not null,
                                    created_at timestamptz not null default now(),
                                    updated_at timestamptz not null default now());
create table public.pk_readings (sensor text not null, at timestamptz not null,
                                 created_at timestamptz not null default now(),
                                 updated_at timestamptz not null default now())
  partition by range (at);
create table public.pk_readings_2025 partition of public.pk_readings
  for values from ('2025-01-01') to ('2026-01-01');
