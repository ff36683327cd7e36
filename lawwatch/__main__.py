import sys

from lawwatch.cli import main

sys.exit(main())
