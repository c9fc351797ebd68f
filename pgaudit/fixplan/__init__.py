"""``pgaudit fix``: a remediation plan for selected findings, its data preconditions
predicted on the audited database (read-only), rehearsed on a throwaway copy.

select -> statements -> preconditions -> plan -> rehearse -> formats.
"""
