-- schema_drift: drift needs a previous run stored in the history store; a schema script cannot
-- plant it. This table is the object such a comparison would report once it is altered by hand
-- after a stored run (e.g. alter table public.s45_drift_notes add column hotfix text;).
create table public.s45_drift_notes (id bigint generated always as identity primary key, note text not null);
