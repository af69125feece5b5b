"""The review workspace (issue 12): ``movescreen serve`` and ``movescreen workspace ...``.

Clients, sessions (one analysed video each), the clinician's verdicts on findings, progress over
time, over SQLite (default, WAL) or PostgreSQL. Needs the ``workspace`` extra.
"""
