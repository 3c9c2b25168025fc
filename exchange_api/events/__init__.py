"""Events: the outbox every change writes to, the feed and stream that read it, watch lists
and signed webhooks (docs/contract.md, "Events").

- :mod:`.outbox`: :func:`~.outbox.record_event`, the one way a domain produces an event, in its
  own transaction (one INSERT).
- :mod:`.sequencer`: gives produced events their ``seq`` in commit order, matches them against
  watch lists and queues webhook deliveries; forgets events past 30 days.
- :mod:`.hub`: wakes this worker's long-polls and streams when the feed moves.
- :mod:`.service`, :mod:`.repository`: the feed, with visibility decided when it is read.
- :mod:`.matching`, :mod:`.subscriptions`: watch lists, indexed by criterion for matching in SQL.
- :mod:`.webhooks`, :mod:`.targets`: delivery (claimed, signed, retried) and the SSRF checks.

This package's ``__init__`` imports nothing: the alerts domain imports :mod:`.outbox`, and the
feed imports the alerts domain, so nothing may tie the two together here.
"""
