from __future__ import annotations

import sys

from pytest_traefik_compat.cli import main

sys.exit(main())
