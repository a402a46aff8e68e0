"""core: the heartbeats of the running processes (workers), for metrics, doctor and upgrades

Revision ID: core_0004
Revises: core_0003
"""
from alembic import op
import sqlalchemy as sa
import coulisses.db


revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_process',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('host', sa.String(length=120), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('started_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_core_process')),
    info={'plugin': 'core'}
    )


def downgrade():
    op.drop_table('core_process')
