"""The database edge: engine and URL dialects, the schema (models), Alembic migrations, and
the embedded PostgreSQL/Redis servers for a machine that runs neither.

May import: ``exam_server.settings`` and third-party libraries only. Everything else imports it.
"""
