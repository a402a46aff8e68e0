"""security: login throttling and the journal of security events

Revision ID: core_0003
Revises: core_0002
"""
from alembic import op
import sqlalchemy as sa
import coulisses.db


revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', coulisses.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_login_throttle')),
    sa.UniqueConstraint('scope', 'subject', 'key', name=op.f('uq_core_login_throttle_scope_subject_key')),
    info={'plugin': 'core'}
    )
    op.create_table('core_security_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', coulisses.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('login', sa.String(length=200), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('actor_login', sa.String(length=120), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_operator.id'], name=op.f('fk_core_security_event_actor_id_core_operator'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['operator_id'], ['core_operator.id'], name=op.f('fk_core_security_event_operator_id_core_operator'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_security_event')),
    info={'plugin': 'core'}
    )
    with op.batch_alter_table('core_security_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_security_event_at'), ['at'], unique=False)
        batch_op.create_index('ix_core_security_event_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_core_security_event_login'), ['login'], unique=False)


def downgrade():
    with op.batch_alter_table('core_security_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_security_event_login'))
        batch_op.drop_index('ix_core_security_event_kind_at')
        batch_op.drop_index(batch_op.f('ix_core_security_event_at'))
    op.drop_table('core_security_event')
    op.drop_table('core_login_throttle')
