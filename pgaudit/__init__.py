"""pgaudit: a live PostgreSQL introspection auditor that writes a signable review report."""

__version__ = "0.1.0"
