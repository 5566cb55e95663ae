import sys

from service.http.cli import main

sys.exit(main())
