"""``pgaudit compare A B``: is B (staging) still the A (production) it stands for?

``catalog`` reads one side (a live database or a run file's recorded snapshot), ``diff`` turns
two sides into typed differences, ``ddl`` writes what would make B like A, ``sides`` resolves
the command's arguments and ``report`` renders Markdown, HTML and JSON.
"""
