"""Reference data shipped with the contacts plugin (written out, no download)."""
