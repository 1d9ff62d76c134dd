"""``python -m vaesep.cli``: the same as the ``vaesep`` command."""

from vaesep.cli import main

raise SystemExit(main())
