import sys

from casebook.cli import main

sys.exit(main(["serve", *sys.argv[1:]]))
