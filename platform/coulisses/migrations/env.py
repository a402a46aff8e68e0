"""Alembic environment for the host and every plugin: one version table, one branch per plugin.

Run through ``coulisses db upgrade`` (``coulisses.migrations.upgrade``), which passes the connection
and the plugin set in ``config.attributes``.
"""
from alembic import context

from coulisses.db import load_core_models, metadata
from coulisses.migrations import VERSION_TABLE, include_object_for

load_core_models()
config = context.config
connection = config.attributes["connection"]
plugins = config.attributes.get("plugins")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_object=include_object_for(plugins),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    user_module_prefix="coulisses.db.",
)

with context.begin_transaction():
    context.run_migrations()
