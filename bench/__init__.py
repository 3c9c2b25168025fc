"""The benchmark of the exchange against a bare baseline (``python -m bench --help``)."""
