"""The web layer: app factory, admin, REST base, login."""
from coulisses.web.app import create_app

__all__ = ["create_app"]
