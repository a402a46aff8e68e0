"""catalogue: seasons, venues, seat categories, events and audiences can be deactivated

A deactivated row stays for the orders and tickets that refer to it and is no longer offered when
selling (tariffs and fees already had the column).

Revision ID: sales_0003_active
Revises: sales_0002_baskets
Create Date: 2026-12-01 08:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'sales_0003_active'
down_revision = 'sales_0002_baskets'
branch_labels = None
depends_on = None

TABLES = ('sales_season', 'sales_venue', 'sales_seat_category', 'sales_event', 'sales_audience')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('active')
