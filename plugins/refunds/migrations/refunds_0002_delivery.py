"""the cancellation basket's delivery of the exchange's tickets: e-mail, address, immediate print

Revision ID: refunds_0002_delivery
Revises: refunds_0001
Create Date: 2026-12-01 12:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'refunds_0002_delivery'
down_revision = 'refunds_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:
        # existing baskets: the contact's e-mail and address, immediate print (the sell screen's defaults)
        batch_op.add_column(sa.Column('delivery_email', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('delivery_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('immediate_print', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:  # then no default, as the model
        batch_op.alter_column('delivery_email', server_default=None)
        batch_op.alter_column('delivery_address', server_default=None)
        batch_op.alter_column('immediate_print', server_default=None)


def downgrade():
    with op.batch_alter_table('refunds_basket', schema=None) as batch_op:
        batch_op.drop_column('immediate_print')
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('delivery_email')
