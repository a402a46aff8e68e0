"""the order's life: reservation expiry, delivery and documents, tills

Revision ID: sales_0005_lifecycle
Revises: sales_0004_paymodes
Create Date: 2026-12-01 08:30:00
"""
from alembic import op
import sqlalchemy as sa
import coulisses.db


revision = 'sales_0005_lifecycle'
down_revision = 'sales_0004_paymodes'
branch_labels = None
depends_on = None

OLD_MODES = "delivery_mode IN ('handed', 'eticket', 'post')"
NEW_MODES = "delivery_mode IN ('handed', 'eticket', 'post', 'print_at_home')"


def upgrade():
    with op.batch_alter_table('sales_point_of_sale', schema=None) as batch_op:
        batch_op.add_column(sa.Column('option_hours', sa.Integer(), nullable=False, server_default='72'))
        batch_op.add_column(sa.Column('requires_open_till', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('option_expires_at', coulisses.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_sales_order_option_expires', ['option_expires_at'], unique=False)
    with op.batch_alter_table('sales_ticket', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sales_ticket_delivery_mode'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sales_ticket_delivery_mode'), NEW_MODES)

    op.create_table('sales_order_delivery',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('immediate_print', sa.Boolean(), nullable=False),
    sa.Column('documents_customised', sa.Boolean(), nullable=False),
    sa.Column('updated_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts_contact.id'], name=op.f('fk_sales_order_delivery_contact_id_contacts_contact'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_order_delivery_order_id_sales_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_sales_order_delivery')),
    info={'plugin': 'sales'}
    )
    op.create_table('sales_order_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=60), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('send', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', coulisses.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("send IN ('email', 'print')", name=op.f('ck_sales_order_document_send')),
    sa.CheckConstraint("state IN ('planned', 'queued', 'ready', 'sent', 'failed')", name=op.f('ck_sales_order_document_state')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_sales_order_document_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_sales_order_document_order_id_sales_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_order_document')),
    info={'plugin': 'sales'}
    )
    with op.batch_alter_table('sales_order_document', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_document_order', ['order_id', 'id'], unique=False)

    op.create_table('sales_till_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('point_of_sale_id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=False),
    sa.Column('operator_login', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('open_marker', sa.Integer(), nullable=True),
    sa.Column('opening_float', coulisses.db.Money(), nullable=False),
    sa.Column('opened_at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', coulisses.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('difference', coulisses.db.Money(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_sales_till_session_state')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['core_operator.id'], name=op.f('fk_sales_till_session_closed_by_id_core_operator'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['operator_id'], ['core_operator.id'], name=op.f('fk_sales_till_session_operator_id_core_operator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['point_of_sale_id'], ['sales_point_of_sale.id'], name=op.f('fk_sales_till_session_point_of_sale_id_sales_point_of_sale'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_till_session')),
    sa.UniqueConstraint('number', name=op.f('uq_sales_till_session_number')),
    sa.UniqueConstraint('point_of_sale_id', 'operator_id', 'open_marker', name=op.f('uq_sales_till_session_one_open')),
    info={'plugin': 'sales'}
    )
    with op.batch_alter_table('sales_till_session', schema=None) as batch_op:
        batch_op.create_index('ix_sales_till_session_opened', ['point_of_sale_id', 'opened_at'], unique=False)

    op.create_table('sales_till_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('payment_mode_id', sa.Integer(), nullable=False),
    sa.Column('expected', coulisses.db.Money(), nullable=False),
    sa.Column('counted', coulisses.db.Money(), nullable=False),
    sa.Column('difference', coulisses.db.Money(), nullable=False),
    sa.ForeignKeyConstraint(['payment_mode_id'], ['sales_payment_mode.id'], name=op.f('fk_sales_till_count_payment_mode_id_sales_payment_mode'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['sales_till_session.id'], name=op.f('fk_sales_till_count_session_id_sales_till_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_till_count')),
    sa.UniqueConstraint('session_id', 'payment_mode_id', name=op.f('uq_sales_till_count_one_per_mode')),
    info={'plugin': 'sales'}
    )


def downgrade():
    op.drop_table('sales_till_count')
    with op.batch_alter_table('sales_till_session', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_till_session_opened')
    op.drop_table('sales_till_session')
    with op.batch_alter_table('sales_order_document', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_document_order')
    op.drop_table('sales_order_document')
    op.drop_table('sales_order_delivery')
    with op.batch_alter_table('sales_ticket', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sales_ticket_delivery_mode'), type_='check')
        batch_op.create_check_constraint(op.f('ck_sales_ticket_delivery_mode'), OLD_MODES)
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_option_expires')
        batch_op.drop_column('option_expires_at')
    with op.batch_alter_table('sales_point_of_sale', schema=None) as batch_op:
        batch_op.drop_column('requires_open_till')
        batch_op.drop_column('option_hours')
