"""People, roles, login and language preference."""
