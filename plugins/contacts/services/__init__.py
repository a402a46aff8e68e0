"""The contacts plugin's domain logic, split by concern. Plain functions taking a ``Session``;
nothing here imports Flask. See ``plugins/contacts/SERVICES.md`` for the list of entry points.
"""
