"""contacts: the trigram table of '*' wildcard searches on SQLite; search indexes that hold ``valid``

SQLite has no trigram index: this revision adds an FTS5 table with the trigram tokenizer over
``contacts_contact.search_last`` (the contacts table is its content: no copy of the names), the
triggers that keep it in sync on every insert, update of the name and delete, and fills it from the
existing contacts. PostgreSQL already has its GIN trigram index (contacts_0001): nothing to do there.
See ``plugins/contacts/models.py`` (``create_trigram_search``).

On both databases the three search indexes (name, first name, e-mail) gain ``valid`` as their last
column, so that a quick search's probe and its capped count read an index alone; on PostgreSQL the
display-order index includes ``id`` and ``valid`` (index-only walks of the display order).

Revision ID: contacts_0004
Revises: contacts_0003
Create Date: 2026-12-01 15:30:00
"""
from alembic import op

revision = 'contacts_0004'
down_revision = 'contacts_0003'
branch_labels = None
depends_on = None


INDEXES = {  # name: (columns before, columns after)
    'ix_contacts_contact_search_name': (['search_last', 'search_first', 'id'],
                                        ['search_last', 'search_first', 'id', 'valid']),
    'ix_contacts_contact_search_first': (['search_first', 'search_last', 'id'],
                                         ['search_first', 'search_last', 'id', 'valid']),
    'ix_contacts_contact_search_email': (['search_email'], ['search_email', 'valid']),
}


def _indexes(which: int) -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='contacts_contact')
        op.create_index(name, 'contacts_contact', columns[which], unique=False)


def _sort_index(include: list[str]) -> None:
    """PostgreSQL: the display-order index with ``include`` (``id``, ``valid``: index-only walks)."""
    op.drop_index('ix_contacts_contact_sort_name', table_name='contacts_contact')
    op.create_index('ix_contacts_contact_sort_name', 'contacts_contact', ['sort_last', 'sort_first', 'number'],
                    unique=False, postgresql_include=include)


def upgrade():
    from plugins.contacts.models import create_trigram_search

    _indexes(1)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        _sort_index(['id', 'valid'])
    if bind.dialect.name == 'sqlite':
        create_trigram_search(bind, rebuild=True)


def downgrade():
    from plugins.contacts.models import drop_trigram_search

    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        drop_trigram_search(bind)
    if bind.dialect.name == 'postgresql':
        _sort_index([])
    _indexes(0)
