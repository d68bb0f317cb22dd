"""``python -m ablasim.cli``: the same as the ``ablasim`` command."""

import sys

from . import main

sys.exit(main())
