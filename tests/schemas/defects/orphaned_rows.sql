-- orphaned_rows: a foreign key added NOT VALID over rows whose parent was deleted
create table s2_or_authors (id bigint generated always as identity primary key, name text not null);
insert into s2_or_authors (name) values ('Ada'), ('Grace');
create table s2_or_books (
  id bigint generated always as identity primary key,
  author_id bigint not null,
  title text not null
);
create index s2_or_books_author_id_idx on s2_or_books (author_id);
insert into s2_or_books (author_id, title) values (1, 'Notes'), (2, 'Compilers'), (404, 'Lost author');
alter table s2_or_books add constraint s2_or_books_author_id_fkey
  foreign key (author_id) references s2_or_authors (id) not valid;
