"""The ``exchange-api`` command, one module per domain.

- :mod:`.main`: the parser and the dispatch (``exchange_api.cli:main`` is the console script);
- :mod:`.support`: what every command module uses (output, settings, database, audit recorder,
  :class:`~.support.CommandError`); it imports no command module;
- :mod:`.bootstrap` (``init``, ``serve``, ``openapi``, ``schemas``), :mod:`.agencies`
  (``agencies``, ``clients``), :mod:`.keys`, :mod:`.retention`, :mod:`.audit`: each imports
  :mod:`.support` and its domain's services, never :mod:`.main`.

No domain package imports this one.
"""

from exchange_api.cli.main import main

__all__ = ["main"]
