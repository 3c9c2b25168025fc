"""One module per domain of the API. Each holds the calls of its endpoints (sans I/O) and two
thin namespaces over them: one for :class:`~exchange_client.Client`, one for
:class:`~exchange_client.AsyncClient`, with the same methods. A new domain of the API is a new
module here, attached in ``client.py``; ``tests/sdk/test_contract.py`` holds the two namespaces
to the same signatures."""
