"""`python -m oairun_jupyter.server serve ...`"""

import sys

from ._cli import main

sys.exit(main())
