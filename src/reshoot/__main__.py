import sys

from reshoot.cli import main

sys.exit(main())
