-- xid_wraparound_risk: cannot be planted by a schema script (it needs ~200 million transactions
-- without freezing); see tests/cases/xid_wraparound_risk.toml, which scales the thresholds down.
-- A table whose age the case file drives up:
create table public.s7_xid_events (id bigint generated always as identity primary key, at timestamptz not null default now());
