"""The sales plugin's services (see ``plugins/sales/SERVICES.md``)."""
