"""Member agencies and their client systems: the admin API (``/v1/admin``) and its service,
shared with the ``agencies add`` and ``clients add`` commands."""
