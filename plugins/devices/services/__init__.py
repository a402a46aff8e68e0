"""The devices plugin's domain logic (plain functions taking a Session; no Flask). See SERVICES.md."""
