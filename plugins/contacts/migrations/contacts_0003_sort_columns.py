"""contacts' display order: stored sort columns and their index

``sort_last`` / ``sort_first`` hold ``normalize.sort_key`` of the name and the first name (a space
sorts before a hyphen: "DUPONT SADIER" before "DUPONT-ROUGIER"), computed in Python on every save.
This revision adds them, fills them for the existing contacts in batches (the same Python function,
so the order is the same on SQLite and PostgreSQL) and indexes ``(sort_last, sort_first, number)``.

Revision ID: contacts_0003
Revises: contacts_0002
Create Date: 2026-12-01 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'contacts_0003'
down_revision = 'contacts_0002'
branch_labels = None
depends_on = None

BATCH = 5000


def _string(length: int):
    return sa.String(length=length).with_variant(sa.String(length=length, collation='C'), 'postgresql')


def backfill(connection) -> int:
    """Fill the sort columns of every contact from its names; returns how many rows were written."""
    from plugins.contacts.services.normalize import sort_key

    contact = sa.table('contacts_contact', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                       sa.column('last_name', sa.String), sa.column('first_name', sa.String),
                       sa.column('structure_name', sa.String), sa.column('sort_last', sa.String),
                       sa.column('sort_first', sa.String))
    update = (contact.update().where(contact.c.id == sa.bindparam('row_id'))
              .values(sort_last=sa.bindparam('new_last'), sort_first=sa.bindparam('new_first')))
    last_id, written = 0, 0
    while True:
        rows = connection.execute(
            sa.select(contact.c.id, contact.c.kind, contact.c.last_name, contact.c.first_name,
                      contact.c.structure_name)
            .where(contact.c.id > last_id).order_by(contact.c.id).limit(BATCH)).all()
        if not rows:
            return written
        params = [{'row_id': r.id,
                   'new_last': sort_key(r.structure_name if r.kind == 'structure' else r.last_name),
                   'new_first': '' if r.kind == 'structure' else sort_key(r.first_name)} for r in rows]
        connection.execute(update, params)
        written += len(params)
        last_id = rows[-1].id


def upgrade():
    with op.batch_alter_table('contacts_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_last', _string(200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sort_first', _string(120), nullable=False, server_default=''))
    backfill(op.get_bind())
    with op.batch_alter_table('contacts_contact', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_contact_sort_name', ['sort_last', 'sort_first', 'number'], unique=False)


def downgrade():
    with op.batch_alter_table('contacts_contact', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_contact_sort_name')
        batch_op.drop_column('sort_first')
        batch_op.drop_column('sort_last')
