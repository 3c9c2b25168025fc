"""``python -m exchange_api.cli``: the ``exchange-api`` command."""

import sys

from exchange_api.cli.main import main

sys.exit(main())
