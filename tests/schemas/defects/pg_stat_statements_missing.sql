-- pg_stat_statements_missing: the extension is absent from this database (and, on most test
-- servers, the library is not in shared_preload_libraries either)
drop extension if exists pg_stat_statements;
