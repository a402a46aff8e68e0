"""the cancellation basket's "Plage" scans: the first and the last ticket of a range, scanned in turn

Revision ID: refunds_0003_scan_range
Revises: refunds_0002_delivery
Create Date: 2026-12-01 15:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'refunds_0003_scan_range'
down_revision = 'refunds_0002_delivery'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:
        # existing baskets: one ticket per scan, as before
        batch_op.add_column(sa.Column('scan_range', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('scan_range_first', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:  # then no default, as the model
        batch_op.alter_column('scan_range', server_default=None)
        batch_op.alter_column('scan_range_first', server_default=None)


def downgrade():
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:
        batch_op.drop_column('scan_range_first')
        batch_op.drop_column('scan_range')
