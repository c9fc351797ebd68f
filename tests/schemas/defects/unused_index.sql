-- unused_index: a ~2 MB index no query uses (fires once the statistics window reaches
-- min_stats_age_s, 7 days by default; tests lower it)
create table public.s3_unused_notes (id bigint primary key, note text not null);
insert into public.s3_unused_notes select g, 'note ' || g from generate_series(1, 60000) g;
create index s3_unused_notes_note_idx on public.s3_unused_notes (note);
