"""patronage contact: the pledge's donor as a contact of type patron

Revision ID: patrons_0002
Revises: patrons_0001
Create Date: 2026-11-24 10:12:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'patrons_0002'
down_revision = 'patrons_0001'
branch_labels = None
# contacts_contact must exist before the foreign key to it (the plugin now depends on contacts).
depends_on = 'contacts_0001'


def upgrade():
    with op.batch_alter_table('patrons_patronage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_patrons_patronage_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_patrons_patronage_contact_id_contacts_contact'),
                                    'contacts_contact', ['contact_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('patrons_patronage', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_patrons_patronage_contact_id_contacts_contact'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_patrons_patronage_contact_id'))
        batch_op.drop_column('contact_id')
