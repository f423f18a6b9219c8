"""Alembic environment: runs migrations on the URL that exam_server.db.engine passes in."""

from alembic import context
from sqlalchemy import engine_from_config, pool, text

from exam_server.db import staff_models as _staff_models  # noqa: F401  (registers its tables)
from exam_server.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        # Several workers may start at once: one migrates, the others wait for it.
        connection.execute(text("SELECT pg_advisory_lock(7301)"))
        try:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(7301)"))
            connection.commit()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
