"""Wire facts of each subscription provider (URLs, client ids, names): the defaults of their
``subscriptions.*`` config keys, kept here so config imports nothing above it."""
