"""missing_foreign_key's structural rules across schemas: which table each claim names.

The case file runs one schema at a time and cannot say which table a finding references; these
tests audit two schemas at once and read the finding's evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pgaudit.checkfile import CheckSpec
from pgaudit.engine import AuditOptions, audit
from pgaudit.model import Finding
from tests.casefile import execute_script

MAIN, DUMP = "mfk_main", "mfk_dump"

SETUP = f"""
drop schema if exists {MAIN} cascade; drop schema if exists {DUMP} cascade;
create schema {MAIN}; create schema {DUMP};
create table {MAIN}.area (id serial primary key);
create table {MAIN}.artist (id serial primary key);
create table {MAIN}.event (id serial primary key);
-- the relationships the schema declares elsewhere (artist_meta.id -> artist, an entity0)
create table {MAIN}.artist_meta (id int primary key references {MAIN}.artist);
create table {MAIN}.l_area_area (id serial primary key,
                                 entity0 int not null references {MAIN}.area,
                                 entity1 int not null, unique (entity0, entity1));
create table {MAIN}.l_area_artist (id serial primary key, entity0 int not null,
                                   entity1 int not null, unique (entity0, entity1));
-- the art's own id is no event's: a column names the event
create table {MAIN}.event_art (id bigint primary key, event int not null);
-- versions copy their post's parent_id (posts.parent_id references posts); categories.parent_id
-- beside no post_id is a self-reference, corroborated by posts'
create table {MAIN}.posts (id serial primary key, parent_id int references {MAIN}.posts);
create table {MAIN}.post_versions (id serial primary key, post_id int not null, parent_id int);
create table {MAIN}.categories (id serial primary key, parent_id int);
-- a post's attachments form their own tree: not named after posts, parent_id is their own
create table {MAIN}.attachments (id serial primary key, post_id int, parent_id int);
-- a subscription keeps its collection's name (last_seen_name): it outlives the collection;
-- a plain membership does not, and another table declares the key
create table {MAIN}.collection (id serial primary key, name text);
create table {MAIN}.collection_item (id serial primary key,
                                     collection int references {MAIN}.collection);
create table {MAIN}.subscribe_collection (id serial primary key, collection int not null,
                                          last_seen_name text);
create table {MAIN}.share_collection (id serial primary key, collection int not null);
-- a dump schema that declares no foreign key: the same key, soft by design
create table {DUMP}.artist_json (id int not null, seq int not null, primary key (id, seq));
-- a schema of its own: documentation.l_area_artist_example.id -> l_area_artist
create table {DUMP}.l_area_artist_example (id int primary key, published boolean);
"""


@pytest.fixture(scope="module")
def findings(db: str, specs: dict[str, CheckSpec]) -> Iterator[dict[tuple[str, str], Finding]]:
    execute_script(db, SETUP)
    try:
        run = audit(
            db,
            [specs["missing_foreign_key"]],
            AuditOptions(schemas=[MAIN, DUMP], allow_data=False),
        )
        got = {
            (f.object, f.columns[0]): f for f in run.findings if f.severity != "ok" and f.columns
        }
        assert got, "no finding at all"
        yield got
    finally:
        execute_script(db, f"drop schema {MAIN} cascade; drop schema {DUMP} cascade;")


def test_link_table_columns_reference_the_tables_of_its_name(
    findings: dict[tuple[str, str], Finding],
) -> None:
    assert findings[(f"{MAIN}.l_area_artist", "entity0")].evidence["referenced"] == f"{MAIN}.area"
    assert findings[(f"{MAIN}.l_area_artist", "entity1")].evidence["referenced"] == f"{MAIN}.artist"
    # the same table twice; another link table declares entity0 -> area: corroborated
    twice = findings[(f"{MAIN}.l_area_area", "entity1")]
    assert twice.evidence["referenced"] == f"{MAIN}.area"
    assert "link table" in str(twice.evidence["matched_by"])
    assert findings[(f"{MAIN}.l_area_artist", "entity0")].severity == "critical"


def test_extension_key_references_the_parent_across_schemas(
    findings: dict[tuple[str, str], Finding],
) -> None:
    example = findings[(f"{DUMP}.l_area_artist_example", "id")]
    assert example.evidence["referenced"] == f"{MAIN}.l_area_artist"
    assert "extension" in str(example.evidence["matched_by"])


def test_a_column_named_after_the_parent_keeps_the_key_its_own(
    findings: dict[tuple[str, str], Finding],
) -> None:
    assert findings[(f"{MAIN}.event_art", "event")].evidence["referenced"] == f"{MAIN}.event"
    assert (f"{MAIN}.event_art", "id") not in findings


def test_a_schema_without_foreign_keys_is_soft_by_design(
    findings: dict[tuple[str, str], Finding],
) -> None:
    dump = findings[(f"{DUMP}.artist_json", "id")]
    assert dump.evidence["referenced"] == f"{MAIN}.artist"
    assert dump.evidence["same_fk_elsewhere"] == 1  # artist_meta.id declares it
    assert dump.severity == "warning"
    assert f"schema {DUMP} declares no foreign key at all" in dump.detail


def test_a_versions_parent_id_copies_its_rows_parent_and_is_no_self_reference(
    findings: dict[tuple[str, str], Finding],
) -> None:
    assert (f"{MAIN}.post_versions", "parent_id") not in findings
    # post_versions.post_id -> posts is still claimed; a table without post_id keeps its claim
    assert findings[(f"{MAIN}.post_versions", "post_id")].evidence["referenced"] == f"{MAIN}.posts"
    own = findings[(f"{MAIN}.categories", "parent_id")]
    assert own.evidence["referenced"] == f"{MAIN}.categories"
    assert own.severity == "critical"
    tree = findings[(f"{MAIN}.attachments", "parent_id")]
    assert tree.evidence["referenced"] == f"{MAIN}.attachments"


def test_a_row_keeping_its_parents_label_is_soft_by_design(
    findings: dict[tuple[str, str], Finding],
) -> None:
    survivor = findings[(f"{MAIN}.subscribe_collection", "collection")]
    assert survivor.evidence["same_fk_elsewhere"] == 1
    assert survivor.severity == "warning"
    assert "keeps a copy of the named row's label (last_seen_name)" in survivor.detail
    plain = findings[(f"{MAIN}.share_collection", "collection")]
    assert plain.severity == "critical"
    assert "label" not in plain.detail
