"""cto.new (EngineLabs) through a stored Clerk session cookie."""
