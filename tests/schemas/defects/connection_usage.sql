-- connection_usage: a server-wide, point-in-time measure (sessions against max_connections); it
-- cannot be planted by a schema script. tests/cases/connection_usage.toml moves the thresholds.
select 1;
