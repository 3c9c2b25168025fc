"""Follow-ups: what happened next to an alert along the penal chain, recorded by any agency that
sees it (docs/contract.md, "Follow-ups").

``endpoints`` (HTTP), ``service`` (the rules and the audit records), ``repository`` (the SQL),
``schemas`` (the API models), ``errors``. Who sees which follow-up, and the alert's stage, are
part of the alerts domain's visibility (``exchange_api.alerts.visibility``,
``exchange_api.alerts.stages``), so that alert reads, searches and history count exactly what
this domain lists.
"""
