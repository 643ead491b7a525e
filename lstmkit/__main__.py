"""``python -m lstmkit`` is the ``lstmkit`` command."""

from lstmkit.cli.main import main

raise SystemExit(main())
