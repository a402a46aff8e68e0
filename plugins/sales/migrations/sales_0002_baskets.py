"""baskets: sales_basket, sales_operation_entry (an operation's entries; existing operations get theirs)

Revision ID: sales_0002_baskets
Revises: sales_0001
Create Date: 2026-12-01 08:00:00
"""
from alembic import op
import sqlalchemy as sa
import coulisses.db


revision = 'sales_0002_baskets'
down_revision = 'sales_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sales_operation_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('operator_login', sa.String(length=80), nullable=False),
    sa.Column('point_of_sale_id', sa.Integer(), nullable=True),
    sa.Column('at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amount', coulisses.db.Money(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['sales_operation.id'], name=op.f('fk_sales_operation_entry_operation_id_sales_operation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['operator_id'], ['core_operator.id'], name=op.f('fk_sales_operation_entry_operator_id_core_operator'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_operation_entry_order_id_sales_order'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['point_of_sale_id'], ['sales_point_of_sale.id'], name=op.f('fk_sales_operation_entry_point_of_sale_id_sales_point_of_sale'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_operation_entry')),
    info={'plugin': 'sales'}
    )
    with op.batch_alter_table('sales_operation_entry', schema=None) as batch_op:
        batch_op.create_index('ix_sales_operation_entry_operation', ['operation_id', 'id'], unique=False)
        batch_op.create_index('ix_sales_operation_entry_order', ['order_id', 'id'], unique=False)

    op.create_table('sales_basket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('point_of_sale_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('held_at', coulisses.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('held_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', coulisses.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint("state IN ('open', 'held', 'settled', 'abandoned')", name=op.f('ck_sales_basket_state')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts_contact.id'], name=op.f('fk_sales_basket_contact_id_contacts_contact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['held_by_id'], ['core_operator.id'], name=op.f('fk_sales_basket_held_by_id_core_operator'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['operation_id'], ['sales_operation.id'], name=op.f('fk_sales_basket_operation_id_sales_operation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['operator_id'], ['core_operator.id'], name=op.f('fk_sales_basket_operator_id_core_operator'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['point_of_sale_id'], ['sales_point_of_sale.id'], name=op.f('fk_sales_basket_point_of_sale_id_sales_point_of_sale'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_basket')),
    sa.UniqueConstraint('operation_id', name=op.f('uq_sales_basket_operation_id')),
    info={'plugin': 'sales'}
    )
    with op.batch_alter_table('sales_basket', schema=None) as batch_op:
        batch_op.create_index('ix_sales_basket_pos_state', ['point_of_sale_id', 'state'], unique=False)

    # every operation written before baskets is its own first entry
    op.execute("INSERT INTO sales_operation_entry (operation_id, order_id, kind, operator_id, operator_login, "
               "point_of_sale_id, at, amount, details) SELECT id, order_id, kind, operator_id, operator_login, "
               "point_of_sale_id, at, amount, details FROM sales_operation ORDER BY number")


def downgrade():
    with op.batch_alter_table('sales_basket', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_basket_pos_state')
    op.drop_table('sales_basket')
    with op.batch_alter_table('sales_operation_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_operation_entry_order')
        batch_op.drop_index('ix_sales_operation_entry_operation')
    op.drop_table('sales_operation_entry')
