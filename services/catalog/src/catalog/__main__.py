from portal_runtime.cli import make_cli

from catalog.bootstrap import definition

make_cli(definition)()
