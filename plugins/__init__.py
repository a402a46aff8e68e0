"""The built-in Coulisses plugins (each registered through an entry point in group coulisses.plugins)."""
