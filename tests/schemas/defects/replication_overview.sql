-- replication_overview: replicas and replication slots are cluster-wide (a slot planted here
-- would outlive this database and retain WAL on the test server); tests/cases/replication_overview.toml
-- creates and drops a slot. Nothing to plant in the schema.
select 1;
